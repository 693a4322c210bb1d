"""Kasse scenarios: each starts its own `kasse serve` on a fresh database and drives it like a client."""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import servers
from bench.loadgen import Load, wrk

AUTH = {"Authorization": "Bearer sk_test_kasse_sandbox"}
BODY = {"amount": 1000, "currency": "EUR", "method": "sofort", "country": "DE", "return_url": "https://shop.example/r"}


@dataclass
class KasseRun:
    """What one `kasse serve` on one database measured: loads per (scenario, concurrency), and resources."""

    database: str
    loads: dict[tuple[str, int], Load] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)


def create_and_read(kind: str, concurrencies: list[int], seconds: float, scenarios: set[str]) -> KasseRun:
    """Create payment (unique Idempotency-Key per request) and read payment, at every concurrency."""
    url = servers.fresh_database(kind)
    run = KasseRun(kind)
    srv = servers.kasse(url, workers=False).start()
    try:
        run.resources["time_to_healthy_s (fresh database)"] = srv.time_to_healthy_s
        run.resources["rss_idle_mb"] = _mb(srv.rss())
        created = httpx.post(f"{srv.base}/api/v1/payments", json=BODY, headers=AUTH, timeout=30)
        created.raise_for_status()
        payment_id = created.json()["id"]
        nonce = uuid.uuid4().hex[:8]
        for c in concurrencies:
            if "create" in scenarios:
                run.loads[("create payment", c)] = wrk(
                    srv.base, "create_payment.lua", concurrency=c, seconds=seconds, args=(f"{nonce}c{c}",), server=srv
                )
            if "read" in scenarios:
                run.loads[("read payment", c)] = wrk(
                    f"{srv.base}/api/v1/payments/{payment_id}", "get.lua", concurrency=c, seconds=seconds, server=srv
                )
        run.resources["rss_peak_under_load_mb"] = _mb(srv.peak_rss())
        run.resources["rss_after_load_mb"] = _mb(srv.rss())
    finally:
        srv.stop()
    return run


def stripe_path(kind: str, concurrencies: list[int], seconds: float) -> KasseRun:
    """The Stripe path as stripe-python drives it: `POST /stripe/v1/sources` (each chargeable 3 s later,
    by the seed's magic email), one clock advance, then `POST /stripe/v1/charges` on those sources, one
    per request. Sources run twice as long as charges, so there is a fresh source for every charge."""
    url = servers.fresh_database(kind)
    run = KasseRun(kind)
    srv = servers.kasse(url, workers=False).start()
    nonce = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        ids = Path(tmp) / "sources.txt"
        ids.touch()
        try:
            for c in concurrencies:
                run.loads[("stripe source", c)] = wrk(
                    srv.base, "stripe_source.lua", concurrency=c, seconds=2 * seconds,
                    args=(f"{nonce}s{c}", str(ids)), server=srv,
                )  # fmt: skip
            answer = httpx.post(f"{srv.base}/_sandbox/clock/advance", json={"seconds": 5}, headers=AUTH, timeout=3600)
            answer.raise_for_status()
            _advance_result(srv.base, answer)
            first = 1
            for c in concurrencies:
                load = wrk(
                    srv.base, "stripe_charge.lua", concurrency=c, seconds=seconds,
                    args=(f"{nonce}ch{c}", str(ids), str(first)), server=srv,
                )  # fmt: skip
                run.loads[("stripe charge", c)] = load
                first += load.requests + c  # wrk may have sent a request per connection it never counted
            run.resources["rss_after_stripe_mb"] = _mb(srv.rss())
        finally:
            srv.stop()
    return run


def seed_payments(
    url: str, count: int, *, expires_in_s: int | None = None, endpoint_url: str | None = None, batch: int = 1000
) -> float:
    """Create ``count`` payments in-process (``batch`` per transaction) before the server starts; with
    ``expires_in_s`` each schedules its expiry timer that far ahead; with ``endpoint_url`` an endpoint for
    every event type is registered first, so the outbox holds one pending delivery per payment. Returns
    the seconds it took."""
    from kasse.dialects.registry import hooks
    from kasse.domain.models import Method
    from kasse.engine import payments, webhooks
    from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
    from kasse.engine.unit import Kasse
    from kasse.storage.db import Database

    kasse = Kasse(Database(url), hooks=hooks())
    kasse.db.migrate()
    ensure_sandbox_merchant(kasse)
    begin = time.perf_counter()
    if endpoint_url is not None:
        with kasse.unit(merchant_id=SANDBOX.id) as tx:
            webhooks.create_endpoint(
                tx, url=endpoint_url, enabled_events=["*"], description="bench receiver", dialect="native"
            )
    cmd = payments.CreatePayment(
        amount_minor=1000, currency="EUR", method=Method("sofort"), origin="native", country="DE",
        return_url="https://shop.example/r", expires_in_s=expires_in_s,
    )  # fmt: skip
    done = 0
    while done < count:
        with kasse.unit(merchant_id=SANDBOX.id) as tx:
            for _ in range(min(batch, count - done)):
                payments.create_payment(tx, cmd)
        done += min(batch, count - done)
    kasse.db.engine.dispose()
    servers.analyze(url)
    return time.perf_counter() - begin


def _advance_result(base: str, answer: httpx.Response) -> dict[str, Any]:
    """The clock an advance ended with: at once (200), or, for one that outlives the request's budget
    (202, kasse.web.advances), from its status resource once it has finished."""
    body: dict[str, Any] = answer.json()
    while "url" in body and body.get("status") == "running":
        time.sleep(0.05)
        answer = httpx.get(f"{base}{body['url']}", headers=AUTH, timeout=60)
        answer.raise_for_status()
        body = answer.json()
    if "url" in body:
        if body.get("status") != "succeeded":
            raise RuntimeError(f"clock advance {body.get('id')} ended {body.get('status')}: {body.get('error')}")
        result: dict[str, Any] = body["result"]
        return result
    return body


def timers(kind: str, count: int) -> dict[str, Any]:
    """Advance the clock over ``count`` due expiry timers in one `POST /_sandbox/clock/advance`."""
    url = servers.fresh_database(kind)
    seed_s = seed_payments(url, count, expires_in_s=60)
    srv = servers.kasse(url, workers=False).start()
    try:
        begin, cpu_before = time.perf_counter(), srv.cpu_s()
        answer = httpx.post(f"{srv.base}/_sandbox/clock/advance", json={"seconds": 120}, headers=AUTH, timeout=3600)
        answer.raise_for_status()
        clock = _advance_result(srv.base, answer)
        elapsed, cpu_after = time.perf_counter() - begin, srv.cpu_s()
        fired = len(clock["fired"])
        return {
            "database": kind,
            "timers": count,
            "fired": fired,
            "seconds": elapsed,
            "fired_per_s": fired / elapsed if elapsed else 0.0,
            "cpu_us_per_timer": per_item_us(cpu_before, cpu_after, fired),
            "seed_seconds": seed_s,
            "time_to_healthy_s": srv.time_to_healthy_s,
            "rss_after_mb": _mb(srv.rss()),
            "rss_peak_mb": _mb(srv.peak_rss()),
        }
    finally:
        srv.stop()


def per_item_us(before: float | None, after: float | None, items: int) -> float | None:
    """Server CPU microseconds per item between two ``Server.cpu_s()`` readings."""
    return (after - before) * 1e6 / items if before is not None and after is not None and items else None


def _mb(value: int | None) -> float | None:
    return round(value / 1_048_576, 1) if value is not None else None
