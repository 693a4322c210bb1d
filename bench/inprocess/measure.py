"""In-process: CPU µs per native create (16 threads, run_idempotent as the API does), statements and
round trips per create and per Stripe charge (through the ASGI app)."""

import sys, os, time, threading, uuid, tempfile

os.environ["KASSE_RUN_WORKERS"] = "0"
import sqlalchemy as sa
from sqlalchemy import event
from kasse.config import Settings
from kasse.dialects.registry import hooks
from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
from kasse.engine.unit import Kasse
from kasse.engine import payments, webhooks
from kasse.engine.idempotency import run_idempotent, fingerprint
from kasse.domain.models import Method
from kasse.storage import schema
from kasse.storage.db import Database
import kasse.storage._base as base

kind = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
if kind == "sqlite":
    url = f"sqlite:///{tempfile.mkdtemp()}/k.db"
else:
    url = os.environ.get("KASSE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/kasse_bench")
db = Database(url)
db.migrate()
with db.transaction() as conn:
    if db.is_sqlite:
        for t in reversed(schema.metadata.sorted_tables):
            conn.execute(t.delete())
    else:
        conn.execute(sa.text("TRUNCATE " + ", ".join(t.name for t in schema.metadata.sorted_tables) + " CASCADE"))
kasse = Kasse(db, hooks=hooks())
ensure_sandbox_merchant(kasse)
mid = SANDBOX.id

kasse.run(
    mid,
    lambda tx: webhooks.create_endpoint(
        tx, url="http://127.0.0.1:9/h", enabled_events=["*"], description=None, dialect="native"
    ),
)

counts = {"stmt": 0, "commit": 0}


@event.listens_for(db.engine, "before_cursor_execute")
def _c(*a):
    counts["stmt"] += 1


@event.listens_for(db.engine, "commit")
def _cm(*a):
    counts["commit"] += 1


try:
    import kasse.storage._direct as direct
except ImportError:
    direct = type("D", (), {"PIPELINES": [0]})
syncs = lambda: direct.PIPELINES[0] + getattr(direct, "FETCHES", [0])[0]


def create(i):
    cmd = payments.CreatePayment(
        amount_minor=1000,
        currency="EUR",
        method=Method("sofort"),
        origin="native",
        country="DE",
        metadata={"order": str(i)},
    )
    key = uuid.uuid4().hex
    return run_idempotent(
        kasse,
        merchant_id=mid,
        scope="native",
        key=key,
        fingerprint=fingerprint("POST", "/p", {"i": i}),
        operation=lambda tx: (201, {"id": payments.create_payment(tx, cmd).id}),
    )


for i in range(200):
    create(i)  # warm up
c0, s0, k0, p0 = dict(counts), 0, 0, syncs()
create(0)
st, cm, ps = counts["stmt"] - c0["stmt"], counts["commit"] - c0["commit"], syncs() - p0
print(
    f"{kind} create: {st} SQLAlchemy statements + {ps} pipelines/driver queries + {cm} commit -> round trips (+1 BEGIN) {st + ps + cm if not db.is_sqlite else '-'}"
)


def worker(n, off):
    for i in range(n):
        create(off + i)


T = 16
per = N // T
ts = [threading.Thread(target=worker, args=(per, k * per)) for k in range(T)]
cpu0, w0 = time.process_time(), time.perf_counter()
for t in ts:
    t.start()
for t in ts:
    t.join()
cpu, wall = time.process_time() - cpu0, time.perf_counter() - w0
print(f"{kind} create x{per * T}, 16 threads: CPU {cpu / (per * T) * 1e6:.0f} µs/create, {per * T / wall:.0f}/s wall")

# Stripe charge via the ASGI app
from fastapi.testclient import TestClient
from kasse.web.app import create_app

settings = Settings.from_env() if False else None
os.environ["KASSE_DATABASE_URL"] = url
app = create_app(kasse=kasse) if "kasse" in create_app.__code__.co_varnames else None
H = {"Authorization": f"Bearer {SANDBOX.secret_key}", "Stripe-Version": "2026-10-28.endive"}
with TestClient(app) as client:
    srcs = []
    for i in range(5):
        r = client.post(
            "/stripe/v1/sources",
            data={
                "type": "sofort",
                "amount": 1000,
                "currency": "eur",
                "redirect[return_url]": "https://shop.example/r",
                "sofort[country]": "DE",
                "owner[email]": "bench_chargeable@example.com",
            },
            headers={**H, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert r.status_code == 200, r.text
        srcs.append(r.json()["id"])
    c0 = dict(counts)
    p0 = syncs()
    r = client.post(
        "/stripe/v1/sources",
        data={
            "type": "sofort",
            "amount": 1000,
            "currency": "eur",
            "redirect[return_url]": "https://shop.example/r",
            "sofort[country]": "DE",
            "owner[email]": "bench_chargeable@example.com",
        },
        headers={**H, "Idempotency-Key": uuid.uuid4().hex},
    )
    srcs.append(r.json()["id"])
    st, cm, ps = counts["stmt"] - c0["stmt"], counts["commit"] - c0["commit"], syncs() - p0
    print(f"{kind} stripe source: {st} statements + {ps} pipelines/driver queries + {cm} commits (incl. auth reads; +1 BEGIN on PostgreSQL)")
    r = client.post("/_sandbox/clock/advance", json={"seconds": 5}, headers=H)
    assert r.status_code == 200, r.text
    for s in srcs[:5]:
        r = client.post(
            "/stripe/v1/charges",
            data={"amount": 1000, "currency": "eur", "source": s},
            headers={**H, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert r.status_code == 200, r.text
    c0 = dict(counts)
    p0 = syncs()
    r = client.post(
        "/stripe/v1/charges",
        data={"amount": 1000, "currency": "eur", "source": srcs[5]},
        headers={**H, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 200, r.text
    st, cm, ps = counts["stmt"] - c0["stmt"], counts["commit"] - c0["commit"], syncs() - p0
    print(f"{kind} stripe charge: {st} statements + {ps} pipelines/driver queries + {cm} commits (incl. auth reads; +1 BEGIN on PostgreSQL)")
