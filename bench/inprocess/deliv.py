"""In-process delivery throughput: N pending deliveries (one native endpoint, a loopback receiver),
one Deliverer's run_once passes until all are sent. CPU µs per delivery (the whole process, sender
threads included) and deliveries/s."""

import sys, os, time, subprocess, tempfile, socket
import httpx, sqlalchemy as sa

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
kind, N = sys.argv[1], int(sys.argv[2])
conc = int(sys.argv[3]) if len(sys.argv) > 3 else None
port = 8791
rec = subprocess.Popen(
    [sys.executable, "-m", "bench.receiver", str(port)],
    cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
)
from bench.scenarios import seed_payments
from kasse.dialects.registry import hooks, outbound
from kasse.engine.unit import Kasse
from kasse.engine.merchants import SANDBOX
from kasse.storage.db import Database
from kasse.storage import schema
from kasse.delivery.worker import Deliverer

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
for _ in range(50):
    try:
        httpx.get(f"http://127.0.0.1:{port}/healthz")
        break
    except Exception:
        time.sleep(0.1)
seed_payments(url, N, endpoint_url=f"http://127.0.0.1:{port}/hook")
if kind != "sqlite":
    with db.engine.connect() as c:
        c.exec_driver_sql("ANALYZE")
        c.commit()
kasse = Kasse(db, hooks=hooks())
opts = {} if conc is None else {"concurrency": conc}
d = Deliverer(kasse, outbound=outbound(), base_url="http://127.0.0.1:1", **opts)
cpu0, w0 = time.process_time(), time.perf_counter()
sent = 0
while sent < N:
    n = d.run_once()
    if n == 0:
        break
    sent += n
cpu, wall = time.process_time() - cpu0, time.perf_counter() - w0
stats = httpx.get(f"http://127.0.0.1:{port}/stats").json()
print(
    f"{kind}: {sent} sent ({stats.get('distinct_events')} distinct at receiver), {sent / wall:.0f}/s, CPU {cpu / sent * 1e6:.0f} µs/delivery"
)
d.close()
rec.terminate()
