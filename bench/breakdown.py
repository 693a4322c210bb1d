"""Where a create's microseconds go: ``POST /api/v1/payments`` measured in-process, layer by layer.

    .venv/bin/python -m bench.breakdown [--database sqlite|postgresql] [-n 2000]

The ASGI app is called directly (no socket, no client; ``bench.edge_cpu.call``), one request after
another, with the background workers off, and the process's CPU time is read around each layer:

- ``request``: the whole request through ``create_app`` (routing, middleware, validation, idempotency,
  the unit of work, the commit, JSON);
- ``unit``: the same create as the route runs it (``kasse.run`` of the idempotent create), no HTTP;
- ``sql``: inside that, the time between SQLAlchemy's ``before_cursor_execute`` and
  ``after_cursor_execute`` (the driver and, on PostgreSQL, the wait for the answer), and how many
  statements; what psycopg sends outside SQLAlchemy (the flush's pipeline) is counted by
  ``kasse.storage`` itself where it exists;
- ``baseline (b)``: ``bench.apps:fastapi_app``'s 10-field POST, the same way.

Figures are medians of three rounds, µs of CPU per create. They are a profile, not the benchmark's
throughput: ``make bench`` measures that over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench import servers
from bench.edge_cpu import call
from bench.scenarios import BODY

_LOOP = asyncio.new_event_loop()  # one loop for every call, as under uvicorn


def _asgi_post(app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> Callable[[], int]:
    """One POST through ``app`` as uvicorn would call it (``bench.edge_cpu.call``); returns the status."""
    hdrs = ((b"content-type", b"application/json"), *headers)
    return lambda: _LOOP.run_until_complete(call(app, "POST", path, body, hdrs))[0]


def _per_call(fn: Callable[[], object], n: int) -> float:
    begin = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - begin) / n * 1e6


def measure(database: str, n: int) -> dict[str, Any]:
    from sqlalchemy import event

    from kasse.config import Settings
    from kasse.dialects import registry
    from kasse.dialects.native.routes import ORIGIN
    from kasse.domain.models import Method
    from kasse.engine import payments
    from kasse.engine.idempotency import fingerprint, run_idempotent
    from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
    from kasse.engine.unit import Kasse
    from kasse.storage.db import Database
    from kasse.web.app import create_app

    url = servers.fresh_database(database)
    settings = Settings.from_env()
    settings = type(settings)(**{**settings.__dict__, "database_url": url, "run_workers": False})
    db = Database(url)
    db.migrate()
    kasse = Kasse(db, hooks=registry.hooks())
    ensure_sandbox_merchant(kasse)
    app = create_app(settings, kasse=kasse)

    statements = 0
    sql_s = 0.0
    started: list[float] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _before(*_: Any) -> None:
        started.append(time.perf_counter())

    @event.listens_for(db.engine, "after_cursor_execute")
    def _after(*_: Any) -> None:
        nonlocal statements, sql_s
        statements += 1
        sql_s += time.perf_counter() - started.pop()

    keys = (f"{uuid.uuid4().hex}-{i}" for i in range(10**9))
    body = json.dumps(BODY).encode()

    def request() -> None:
        post = _asgi_post(app, "/api/v1/payments", body, [(b"idempotency-key", next(keys).encode())])
        status = post()
        assert status == 201, status

    def unit() -> None:
        # What the route runs once the request is parsed: the idempotent create in one unit of work.
        cmd = payments.CreatePayment(
            amount_minor=1000, currency="EUR", method=Method.SOFORT, origin=ORIGIN, country="DE",
            return_url="https://shop.example/r",
        )  # fmt: skip
        run_idempotent(
            kasse, merchant_id=SANDBOX.id, scope=ORIGIN, key=next(keys),
            fingerprint=fingerprint("POST", "/api/v1/payments", BODY),
            operation=lambda tx: (201, payments.create_payment(tx, cmd).id),
        )  # fmt: skip

    from bench.apps import fastapi_app

    model_body = json.dumps(
        {"amount": 1000, "currency": "EUR", "method": "sofort", "country": "DE", "return_url": "https://s/r",
         "cancel_url": "https://s/c", "description": "d", "reference": "r", "capture": "automatic", "expires_in": 60}
    ).encode()  # fmt: skip
    baseline_call = _asgi_post(fastapi_app, "/model", model_body, [])

    rounds: dict[str, list[float]] = {"request": [], "unit": [], "sql": [], "statements": [], "baseline_b": []}
    for _ in range(3):
        rounds["baseline_b"].append(_per_call(baseline_call, n))
        rounds["request"].append(_per_call(request, n))
        statements, sql_s = 0, 0.0
        rounds["unit"].append(_per_call(unit, n))
        rounds["sql"].append(sql_s / n * 1e6)
        rounds["statements"].append(statements / n)
    db.dispose()
    return {name: statistics.median(values) for name, values in rounds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("-n", type=int, default=2000, help="creates per round (three rounds)")
    args = parser.parse_args()
    for database in args.database or ["sqlite", "postgresql"]:
        with tempfile.TemporaryDirectory():
            m = measure(database, args.n)
        edge = m["request"] - m["unit"]
        print(
            f"{database}: request {m['request']:.0f} µs CPU = edge {edge:.0f} + unit {m['unit']:.0f} "
            f"(of which SQL driver {m['sql']:.0f} µs over {m['statements']:.1f} statements through SQLAlchemy); "
            f"baseline (b) {m['baseline_b']:.0f} µs"
        )


if __name__ == "__main__":
    main()
