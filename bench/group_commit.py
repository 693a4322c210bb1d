"""Group commit off and on, in process (no HTTP): threads creating payments through the native create's
use case (``run_idempotent`` with a key, the answer rendered) via ``Kasse.run``; wall and CPU per create.

    .venv/bin/python -m bench.group_commit --database sqlite --threads 16 --seconds 5
    .venv/bin/python -m bench.group_commit --database postgresql://postgres@127.0.0.1:5432/kasse_bench
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kasse.dialects.native.translate import payment_out
from kasse.dialects.registry import hooks
from kasse.domain.models import Method
from kasse.engine import payments
from kasse.engine.idempotency import fingerprint, run_idempotent
from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
from kasse.engine.unit import Kasse, Tx
from kasse.storage import schema
from kasse.storage.db import Database


def _wipe(db: Database) -> None:
    with db.transaction() as conn:
        if db.is_sqlite:
            for table in reversed(schema.metadata.sorted_tables):
                conn.execute(table.delete())
        else:
            conn.execute(sa.text(f"TRUNCATE {', '.join(t.name for t in schema.metadata.sorted_tables)} CASCADE"))


def measure(url: str, *, group_commit: bool, threads: int, seconds: float, synchronous: str) -> dict[str, float]:
    db = Database(url, sqlite_synchronous=synchronous)
    db.migrate()
    _wipe(db)
    kasse = Kasse(db, hooks=hooks(), group_commit=group_commit)
    ensure_sandbox_merchant(kasse)
    keys = itertools.count()
    cmd = payments.CreatePayment(origin="native", amount_minor=1000, currency="EUR", method=Method.SOFORT)

    def operation(tx: Tx) -> tuple[int, Any]:
        return 201, payment_out(payments.create_payment(tx, cmd), "http://127.0.0.1:8000")

    def create() -> None:
        run_idempotent(
            kasse, merchant_id=SANDBOX.id, scope="native", key=f"bench-{next(keys)}",
            fingerprint=fingerprint("POST", "/api/v1/payments", {"amount": 1000}), operation=operation,
        )  # fmt: skip

    for _ in range(50):  # warm up: connections, statement caches
        create()
    stop = threading.Event()
    counts = [0] * threads

    def client(n: int) -> None:
        while not stop.is_set():
            create()
            counts[n] += 1

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for w in workers:
        w.start()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    done = sum(counts)
    batch = 0.0 if db.writer is None else db.writer.units / max(db.writer.batches, 1)
    db.dispose()
    return {
        "batch": batch,
        "creates": done,
        "per_s": done / wall,
        "wall_us": wall / done * 1e6,
        "cpu_us": cpu / done * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--synchronous", default="NORMAL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}" if args.database == "sqlite" else args.database
        for group_commit in (False, True):
            r = measure(
                url, group_commit=group_commit, threads=args.threads, seconds=args.seconds, synchronous=args.synchronous
            )
            print(
                f"{args.database.split('://')[0]:10} group commit {'on ' if group_commit else 'off'} "
                f"{args.threads} threads: {r['creates']:6.0f} creates, {r['per_s']:7.0f}/s, "
                f"wall {r['wall_us']:6.0f} µs/create, CPU {r['cpu_us']:6.0f} µs/create, mean batch {r['batch']:.1f}"
            )


if __name__ == "__main__":
    main()
