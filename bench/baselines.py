"""Baselines measured in the same run as the scenarios they are compared with.

(a) Starlette route answering a small JSON body, (b) FastAPI route parsing a 10-field body into Pydantic:
both served by bench/apps.py on the uvicorn settings of `kasse serve`, driven by wrk like Kasse.
(c) pgbench running the payment transaction (bench/pgbench_payment.sql) at the scenario's concurrency
against the same PostgreSQL. (d) SQLite WAL (synchronous=NORMAL, Kasse's default) committing the same
transaction from one Python thread.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench import servers
from bench.loadgen import Load, wrk

HERE = Path(__file__).resolve().parent
BALANCE_ROWS = 64

PG_SETUP = """
DROP TABLE IF EXISTS bench_payments, bench_events, bench_balances;
CREATE TABLE bench_payments (id text PRIMARY KEY, merchant_id text NOT NULL, amount bigint NOT NULL,
    currency text NOT NULL, method text NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE bench_events (id text PRIMARY KEY, merchant_id text NOT NULL, type text NOT NULL,
    payload text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE bench_balances (id integer PRIMARY KEY, merchant_id text NOT NULL, pending bigint NOT NULL);
INSERT INTO bench_balances SELECT g, 'mer_sandbox', 0 FROM generate_series(1, 64) g;
"""

SQLITE_SETUP = """
CREATE TABLE bench_payments (id text PRIMARY KEY, merchant_id text NOT NULL, amount integer NOT NULL,
    currency text NOT NULL, method text NOT NULL, status text NOT NULL, created_at text NOT NULL);
CREATE TABLE bench_events (id text PRIMARY KEY, merchant_id text NOT NULL, type text NOT NULL,
    payload text NOT NULL, created_at text NOT NULL);
CREATE TABLE bench_balances (id integer PRIMARY KEY, merchant_id text NOT NULL, pending integer NOT NULL);
"""


def starlette_json(concurrency: int, seconds: float) -> Load:
    """(a) GET a small JSON body from a bare Starlette route."""
    with servers.uvicorn_app("bench.apps:starlette_app") as srv:
        return wrk(f"{srv.base}/json", "get.lua", concurrency=concurrency, seconds=seconds)


def fastapi_model(concurrency: int, seconds: float) -> Load:
    """(b) POST a 10-field JSON body parsed into a Pydantic model by a sync FastAPI route."""
    with servers.uvicorn_app("bench.apps:fastapi_app") as srv:
        return wrk(f"{srv.base}/model", "fastapi_model.lua", concurrency=concurrency, seconds=seconds)


def pgbench_binary() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True):
        return str(candidate)
    raise RuntimeError("pgbench not found: install Debian's postgresql-client (scripts/bench.sh does)")


def pg_setup() -> None:
    """Create the baseline's own tables in `kasse_bench` (next to Kasse's, never touching them)."""
    import psycopg

    with psycopg.connect(servers.pg_url(), autocommit=True) as conn:
        conn.execute(PG_SETUP)  # type: ignore[arg-type]


def pgbench(concurrency: int, seconds: float) -> Load:
    """(c) pgbench: the payment transaction at ``concurrency`` clients against the same PostgreSQL."""
    pg_setup()
    url = servers.pg_url()
    with tempfile.TemporaryDirectory() as tmp:
        log_prefix = os.path.join(tmp, "log")
        argv = [pgbench_binary(), "-n", "-c", str(concurrency), "-j", str(min(2, concurrency))]
        argv += ["-T", str(max(1, round(seconds))), "-f", str(HERE / "pgbench_payment.sql"), "-l"]
        argv += ["--log-prefix", log_prefix, url]
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60)
        latencies_us: list[int] = []
        for log in Path(tmp).glob("log*"):
            for line in log.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    latencies_us.append(int(parts[2]))
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout)
    if match is None:
        raise RuntimeError(f"unexpected pgbench output:\n{out.stdout}\n{out.stderr}")
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    return _load(float(match.group(1)), [u / 1e6 for u in latencies_us], int(failed.group(1)) if failed else 0, seconds)


def sqlite_wal(seconds: float) -> Load:
    """(d) SQLite WAL, synchronous=NORMAL: the same 2 inserts + 1 update per transaction, one thread."""
    path = os.path.join(tempfile.mkdtemp(prefix="kasse-bench-"), "baseline.db")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SQLITE_SETUP)
    rows = [(i,) for i in range(1, BALANCE_ROWS + 1)]
    conn.executemany("INSERT INTO bench_balances VALUES (?, 'mer_sandbox', 0)", rows)
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    begin = time.perf_counter()
    while (start := time.perf_counter()) < deadline:
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO bench_payments VALUES (?, 'mer_sandbox', 1000, 'EUR', 'sofort', 'requires_action', ?)",
            (uuid.uuid4().hex, now),
        )
        conn.execute(
            "INSERT INTO bench_events VALUES (?, 'mer_sandbox', 'payment.created', '{\"amount\": 1000}', ?)",
            (uuid.uuid4().hex, now),
        )
        balance = random.randint(1, BALANCE_ROWS)
        conn.execute("UPDATE bench_balances SET pending = pending + 1000 WHERE id = ?", (balance,))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - start)
    elapsed = time.perf_counter() - begin
    conn.close()
    return _load(len(latencies) / elapsed, latencies, 0, elapsed)


def _load(rps: float, latencies_s: list[float], errors: int, seconds: float) -> Load:
    if len(latencies_s) >= 2:
        q = statistics.quantiles(latencies_s, n=100)
        p50, p90, p99 = q[49], q[89], q[98]
    else:
        p50 = p90 = p99 = latencies_s[0] if latencies_s else 0.0
    return Load(
        rps=rps, p50_ms=p50 * 1000, p90_ms=p90 * 1000, p99_ms=p99 * 1000, requests=len(latencies_s),
        errors=errors, seconds=seconds,
    )  # fmt: skip
