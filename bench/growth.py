"""Growth and list pagination: create and read latencies with few and with many payments stored, and the
latency of a page deep in the payments list against the first page.

Storing a million payments through the API would take an hour, so the table is grown by bulk SQL that
clones what the API wrote: a few hundred template payments are created through `POST /api/v1/payments`
(with an Idempotency-Key, as SDKs send), then every row those requests wrote (the payment, its events,
its timers, its idempotency key) is copied with ``INSERT … SELECT`` under new ids. New ids are valid Kasse
ids (``pay_`` + 10 Crockford base32 digits of milliseconds + 16 more digits, here the clone's number in
hex, a subset of the alphabet), one millisecond apart and all older than the templates, so they sort by
creation like real ones. Timers keep the templates' due times (a day ahead): nothing falls due during the
run. PostgreSQL is analyzed afterwards, as autovacuum would; SQLite gets no ANALYZE (Kasse runs none).
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import servers
from bench.loadgen import Load, wrk
from bench.scenarios import AUTH, BODY, _mb

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TEMPLATES = 100
CHUNK = 100_000
BASE_BEHIND_MS = 3_000_000  # clones are minted from (templates' time - 50 min) on, 1 ms apart


def encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def _time_part_sql(ms: str) -> str:
    """SQL for the 10 base32 digits of the millisecond expression ``ms`` (both databases)."""
    digits = [f"substr('{ALPHABET}', CAST((({ms}) >> {5 * k}) & 31 AS INTEGER) + 1, 1)" for k in range(9, -1, -1)]
    return " || ".join(digits)


@dataclass
class Seeder:
    """Clones template payments (and every row their creation wrote) into one database."""

    url: str
    kind: str
    templates: list[tuple[str, str]]  # (payment id, Idempotency-Key)
    base_ms: int
    cloned: int = 0
    seconds: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)

    def clone_id(self, i: int) -> str:
        return f"pay_{encode(self.base_ms + i, 10)}{i:016X}"

    def _connect(self) -> Any:
        if self.kind == "sqlite":
            import sqlite3

            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None, timeout=60)
            conn.execute("PRAGMA journal_mode=WAL")
            return conn
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def _map_sql(self) -> list[str]:
        """A temporary table: template number j, row ordinal k, which table, row key, template payment id."""
        rows = []
        for j, (pid, key) in enumerate(self.templates):
            rows.append((j, 0, "payments", pid, pid))
            rows.append((j, 0, "idempotency_keys", key, pid))
        return [
            "CREATE TEMP TABLE bench_map (j INTEGER, k INTEGER, tbl TEXT, rid TEXT, pid TEXT)",
            "INSERT INTO bench_map VALUES " + ", ".join(f"({j}, {k}, '{t}', '{r}', '{p}')" for j, k, t, r, p in rows),
            # events and timers of each template payment, numbered per payment
            "INSERT INTO bench_map SELECT m.j, ROW_NUMBER() OVER (PARTITION BY m.j ORDER BY e.id), 'events', e.id, "
            "m.pid FROM bench_map m JOIN events e ON e.payment_id = m.pid WHERE m.tbl = 'payments'",
            "INSERT INTO bench_map SELECT m.j, ROW_NUMBER() OVER (PARTITION BY m.j ORDER BY t.id), 'timers', t.id, "
            "m.pid FROM bench_map m JOIN timers t ON t.subject_id = m.pid WHERE m.tbl = 'payments'",
        ]

    def _insert_sql(self, table: str, lo: int, hi: int) -> str:
        from kasse.storage import schema

        pg = self.kind == "postgresql"
        n = len(self.templates)
        ms = f"({self.base_ms} + s.i)"
        hex16 = "lpad(upper(to_hex(s.i)), 16, '0')" if pg else "printf('%016X', s.i)"
        hex16k = "lpad(upper(to_hex(s.i * 16 + m.k)), 16, '0')" if pg else "printf('%016X', s.i * 16 + m.k)"
        new_pid = f"('pay_' || {_time_part_sql(ms)} || {hex16})"

        def swap(col: str, json: bool = False) -> str:
            if json and pg:
                return f'replace(x."{col}"::text, m.pid, {new_pid})::jsonb'
            return f'replace(x."{col}", m.pid, {new_pid})'

        overrides: dict[str, dict[str, str]] = {
            "payments": {"id": new_pid, "redirect_token": f"('seed_' || {hex16})"},
            "events": {
                "id": f"('evt_' || {_time_part_sql(ms)} || {hex16k})",
                "object_id": swap("object_id"),
                "payment_id": new_pid,
                "data": swap("data", json=True),
            },
            "timers": {"id": f"('tmr_' || {_time_part_sql(ms)} || {hex16k})", "subject_id": new_pid},
            "idempotency_keys": {"key": f"('seed-' || {hex16})", "response_body": swap("response_body")},
        }
        key = {"payments": "id", "events": "id", "timers": "id", "idempotency_keys": "key"}[table]
        columns = [c.name for c in schema.metadata.tables[table].columns]
        exprs = [overrides[table].get(c, f'x."{c}"') for c in columns]
        quoted = ", ".join(f'"{c}"' for c in columns)
        joins = f"JOIN bench_map m ON m.tbl = '{table}' AND m.j = s.i % {n} JOIN {table} x ON x.\"{key}\" = m.rid"
        if pg:
            series = f"generate_series({lo}, {hi - 1}) AS s(i)"
            return f"INSERT INTO {table} ({quoted}) SELECT {', '.join(exprs)} FROM {series} {joins}"
        cte = f"WITH RECURSIVE s(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM s WHERE i < {hi - 1}) "
        return f"{cte}INSERT INTO {table} ({quoted}) SELECT {', '.join(exprs)} FROM s {joins}"

    def grow(self, total_clones: int) -> float:
        """Clone until ``total_clones`` clones are stored (in chunks, one transaction each); seconds taken."""
        if total_clones <= self.cloned:
            return 0.0
        begin = time.perf_counter()
        conn = self._connect()
        try:
            for stmt in self._map_sql():
                conn.execute(stmt)
            for lo in range(self.cloned, total_clones, CHUNK):
                hi = min(lo + CHUNK, total_clones)
                conn.execute("BEGIN")
                for table in ("payments", "events", "timers", "idempotency_keys"):
                    conn.execute(self._insert_sql(table, lo, hi))
                conn.execute("COMMIT")
            if self.kind == "postgresql":
                conn.execute("ANALYZE payments, events, timers, idempotency_keys")
            else:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            for table in ("payments", "events", "timers", "idempotency_keys"):
                self.tables[table] = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        finally:
            conn.close()
        self.cloned = total_clones
        elapsed = time.perf_counter() - begin
        self.seconds += elapsed
        return elapsed

    def ids_file(self, sample: int = 5_000) -> str:
        """A file of ``sample`` random stored payment ids (clones and templates), for read_random.lua."""
        ids = [self.clone_id(random.randrange(self.cloned)) for _ in range(sample)] if self.cloned else []
        ids += [pid for pid, _ in self.templates]
        path = Path(tempfile.mkdtemp(prefix="kasse-bench-")) / "ids.txt"
        path.write_text("\n".join(ids) + "\n")
        return str(path)


def _templates(base: str, count: int) -> list[tuple[str, str]]:
    nonce = uuid.uuid4().hex[:8]
    out = []
    with httpx.Client(base_url=base, headers=AUTH, timeout=30) as client:
        for i in range(count):
            key = f"tpl-{nonce}-{i}"
            answer = client.post("/api/v1/payments", json=BODY, headers={"Idempotency-Key": key})
            answer.raise_for_status()
            out.append((answer.json()["id"], key))
    return out


def _measure(srv: servers.Server, seeder: Seeder, seconds: float, concurrency: int) -> dict[str, Load]:
    nonce = uuid.uuid4().hex[:8]
    ids = seeder.ids_file()
    for pid in {seeder.templates[0][0], seeder.clone_id(0) if seeder.cloned else seeder.templates[0][0]}:
        httpx.get(f"{srv.base}/api/v1/payments/{pid}", headers=AUTH, timeout=30).raise_for_status()
    return {
        "create": wrk(srv.base, "create_payment.lua", concurrency=concurrency, seconds=seconds, args=(nonce,)),
        "read": wrk(srv.base, "read_random.lua", concurrency=concurrency, seconds=seconds, args=(ids,)),
    }


def growth(kind: str, small: int, large: int, seconds: float, page_seconds: float, concurrency: int = 16) -> dict:
    """Create and read (random stored payment) at ``small`` and at ``large`` payments stored, and list
    pagination (first page vs a page deep in the table) at ``large``."""
    url = servers.fresh_database(kind)
    srv = servers.kasse(url, workers=False).start()
    try:
        # Templates through the API, then clones up to ``small`` (bulk SQL while the server is idle).
        templates = _templates(srv.base, min(TEMPLATES, small))
        seeder = Seeder(url, kind, templates, int(time.time() * 1000) - BASE_BEHIND_MS)
        seeder.grow(small - len(templates))
        stored_small = seeder.tables["payments"]
        at_small = _measure(srv, seeder, seconds, concurrency)
        healthy_small = srv.time_to_healthy_s
    finally:
        srv.stop()
    seed_s = seeder.grow(large - len(templates))
    stored_large = seeder.tables["payments"]
    srv = servers.kasse(url, workers=False).start()
    try:
        healthy_large = srv.time_to_healthy_s
        rss_start = _mb(srv.rss())
        at_large = _measure(srv, seeder, seconds, concurrency)
        # Pagination, one client: the newest page, and a page 150 payments from the oldest end.
        deep_cursor = seeder.clone_id(150)
        first = wrk(f"{srv.base}/api/v1/payments?limit=100", "get.lua", concurrency=1, seconds=page_seconds)
        deep = wrk(
            f"{srv.base}/api/v1/payments?limit=100&starting_after={deep_cursor}",
            "get.lua",
            concurrency=1,
            seconds=page_seconds,
        )
        page = httpx.get(
            f"{srv.base}/api/v1/payments", params={"limit": 100, "starting_after": deep_cursor}, headers=AUTH
        ).json()
        rss_after = _mb(srv.rss())
        rss_peak = _mb(srv.peak_rss())
    finally:
        srv.stop()
    return {
        "database": kind,
        "concurrency": concurrency,
        "stored_small": stored_small,
        "stored_large": stored_large,
        "tables_large": dict(seeder.tables),
        "seed_seconds": seed_s,
        "small": {k: v.as_dict() for k, v in at_small.items()},
        "large": {k: v.as_dict() for k, v in at_large.items()},
        "ratios": {k: at_large[k].p50_ms / at_small[k].p50_ms if at_small[k].p50_ms else None for k in at_small},
        "pagination": {
            "first": first.as_dict(),
            "deep": deep.as_dict(),
            "deep_position": stored_large - 151,
            "deep_page_items": len(page.get("data", [])),
            "ratio_p50": deep.p50_ms / first.p50_ms if first.p50_ms else None,
        },
        "time_to_healthy_small_s": healthy_small,
        "time_to_healthy_large_s": healthy_large,
        "rss_start_large_mb": rss_start,
        "rss_after_growth_mb": rss_after,
        "rss_peak_growth_mb": rss_peak,
    }
