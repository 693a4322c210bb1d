import os, sys, time, tempfile
from datetime import timedelta
import sqlalchemy as sa

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
kind, N = sys.argv[1], int(sys.argv[2])
from bench.scenarios import seed_payments
from kasse.dialects.registry import hooks
from kasse.engine.unit import Kasse
from kasse.engine.merchants import SANDBOX
from kasse.engine.timers import fire_due
from kasse.storage.db import Database
from kasse.storage import schema

url = (
    f"sqlite:///{tempfile.mkdtemp()}/k.db"
    if kind == "sqlite"
    else os.environ.get("KASSE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/kasse_bench")
)
db = Database(url)
db.migrate()
if kind != "sqlite":
    with db.transaction() as conn:
        conn.execute(sa.text("TRUNCATE " + ", ".join(t.name for t in schema.metadata.sorted_tables) + " CASCADE"))
seed_payments(url, N, expires_in_s=60, endpoint_url="http://127.0.0.1:9/h")
if kind != "sqlite":
    with db.engine.connect() as c:
        c.exec_driver_sql("ANALYZE")
        c.commit()
kasse = Kasse(db, hooks=hooks())
until = kasse.merchant_now(merchant_id=SANDBOX.id) + timedelta(seconds=120)
cpu0, w0 = time.process_time(), time.perf_counter()
fired = fire_due(kasse, merchant_id=SANDBOX.id, until=until)
cpu, wall = time.process_time() - cpu0, time.perf_counter() - w0
print(f"{kind}: {len(fired)} timers fired, {len(fired) / wall:.0f}/s, CPU {cpu / len(fired) * 1e6:.0f} µs/timer")
