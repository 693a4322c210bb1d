"""Multi-step scenarios driven by an async client (httpx.AsyncClient): the full Sofort lifecycle, and
webhook delivery throughput. Both run `kasse serve` with its workers (the delivery worker sends the
webhooks) against the bench receiver (bench/receiver.py), a separate process that answers 200 at once."""

from __future__ import annotations

import asyncio
import resource
import statistics
import time
import uuid
from typing import Any

import httpx

from bench import servers
from bench.loadgen import wrk
from bench.scenarios import AUTH, BODY, _mb, per_item_us, seed_payments
from kasse.delivery.worker import SEND_CONCURRENCY

SETTLE_S = 3 * 86_400  # native Sofort settles 2 days after the capture; one advance of 3 days settles all


def _register_endpoint(base: str, receiver: servers.Server, events: list[str]) -> str:
    answer = httpx.post(
        f"{base}/api/v1/webhook_endpoints",
        json={"url": f"{receiver.base}/hook", "enabled_events": events},
        headers=AUTH,
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def _wait_for(receiver: servers.Server, key: str, expected: int, timeout_s: float) -> dict[str, Any]:
    """Poll the receiver until ``stats[key] >= expected`` or the timeout; returns its last stats."""
    deadline = time.monotonic() + timeout_s
    while True:
        stats = servers.receiver_stats(receiver)
        if stats[key] >= expected or time.monotonic() > deadline:
            return stats
        time.sleep(0.02)


def _pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100)[q - 1]


async def _create_and_approve(base: str, count: int, concurrency: int) -> dict[str, Any]:
    """``concurrency`` client tasks create (Idempotency-Key on each) and approve ``count`` payments."""
    nonce = uuid.uuid4().hex[:10]
    todo = iter(range(count))
    create_ms: list[float] = []
    approve_ms: list[float] = []
    errors: list[str] = []
    retried: list[str] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=AUTH, limits=limits, timeout=60) as client:

        async def send(method: str, path: str, **kwargs: Any) -> httpx.Response:
            # A connection closed under a request (seen rarely on PostgreSQL runs, with nothing in the
            # server's log) is retried and counted: creates carry an Idempotency-Key, and an approve is
            # retried only if the payment still awaits it.
            for attempt in range(3):
                try:
                    return await client.request(method, path, **kwargs)
                except httpx.TransportError as exc:
                    retried.append(f"{method} {path}: {exc!r}")
                    if attempt == 2:
                        raise
                    if path.endswith("/approve"):
                        pid = path.split("/")[-2]
                        current = await client.get(f"/api/v1/payments/{pid}")
                        if current.status_code == 200 and current.json()["status"] != "requires_action":
                            return current
            raise AssertionError("unreachable")

        async def client_task() -> None:
            for i in todo:
                begin = time.perf_counter()
                created = await send(
                    "POST", "/api/v1/payments", json=BODY, headers={"Idempotency-Key": f"life-{nonce}-{i}"}
                )
                middle = time.perf_counter()
                if created.status_code != 201:
                    errors.append(f"create {created.status_code}: {created.text[:200]}")
                    continue
                approved = await send("POST", f"/_sandbox/payments/{created.json()['id']}/approve")
                end = time.perf_counter()
                if approved.status_code != 200:
                    errors.append(f"approve {approved.status_code}: {approved.text[:200]}")
                    continue
                create_ms.append((middle - begin) * 1000)
                approve_ms.append((end - middle) * 1000)

        await asyncio.gather(*(client_task() for _ in range(concurrency)))
    return {
        "create_p50_ms": _pct(create_ms, 50),
        "create_p99_ms": _pct(create_ms, 99),
        "approve_p50_ms": _pct(approve_ms, 50),
        "approve_p99_ms": _pct(approve_ms, 99),
        "errors": len(errors),
        "first_errors": errors[:3],
        "transport_retries": len(retried),
        "first_retries": retried[:3],
    }


def lifecycle(kind: str, concurrencies: list[int], payments: int) -> list[dict[str, Any]]:
    """Per concurrency: create → approve ``payments`` Sofort payments, one clock advance of 3 days that
    settles them all, until every `payment.succeeded` webhook has reached the receiver."""
    url = servers.fresh_database(kind)
    rows: list[dict[str, Any]] = []
    receiver = servers.receiver().start()
    srv = servers.kasse(url, workers=True).start()
    try:
        _register_endpoint(srv.base, receiver, ["payment.succeeded"])
        for c in concurrencies:
            httpx.post(f"{receiver.base}/reset", timeout=10).raise_for_status()
            start_wall = time.time()
            begin = time.perf_counter()
            cpu = resource.getrusage(resource.RUSAGE_SELF)
            server_cpu = srv.cpu_s()
            flow = asyncio.run(_create_and_approve(srv.base, payments, c))
            created_s = time.perf_counter() - begin
            after = resource.getrusage(resource.RUSAGE_SELF)
            driver_cpu_s = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
            answer = httpx.post(
                f"{srv.base}/_sandbox/clock/advance", json={"seconds": SETTLE_S}, headers=AUTH, timeout=3600
            )
            advance_s = time.perf_counter() - begin - created_s
            answer.raise_for_status()
            advanced = answer.json()
            expected = payments - flow["errors"]
            stats = _wait_for(receiver, "succeeded_payments", expected, timeout_s=60 + payments / 20)
            waited_s = time.perf_counter() - begin - created_s - advance_s
            server_cpu_after = srv.cpu_s()
            complete = stats["succeeded_payments"] >= expected and flow["errors"] == 0
            end = stats["last_succeeded"] or time.time()
            seconds = end - start_wall
            rows.append(
                {
                    "database": kind,
                    "concurrency": c,
                    "payments": payments,
                    "seconds": seconds,
                    "payments_per_s": (payments / seconds) if complete and seconds > 0 else 0.0,
                    "complete": complete,
                    "create_approve_s": created_s,
                    "driver_cpu_share": driver_cpu_s / created_s if created_s else None,
                    "advance_s": advance_s,
                    "after_advance_s": max(0.0, end - start_wall - created_s - advance_s),
                    "waited_s": waited_s,
                    "cpu_us_per_payment": per_item_us(server_cpu, server_cpu_after, payments),
                    "timers_fired_in_advance": len(advanced.get("fired", [])),
                    "delivery_attempts_in_advance": advanced.get("delivery_attempts"),
                    "webhooks_expected": expected,
                    "webhooks_received": stats["succeeded_payments"],
                    "deliveries_received_total": stats["received"],
                    **flow,
                }
            )
        rows[-1]["rss_after_mb"] = _mb(srv.rss())
        rows[-1]["rss_peak_mb"] = _mb(srv.peak_rss())
    finally:
        srv.stop()
        receiver.stop()
    return rows


def webhook_delivery(kind: str, count: int, baseline_seconds: float | None) -> dict[str, Any]:
    """``count`` pending deliveries in the outbox before `kasse serve` starts; its delivery worker sends them
    to the receiver. Figure: deliveries/s between the first and the last arrival. Also measures baseline
    (e), the receiver itself under wrk at SEND_CONCURRENCY connections (the requests the delivery worker
    keeps in flight), unless ``baseline_seconds`` is None."""
    url = servers.fresh_database(kind)
    receiver = servers.receiver().start()
    try:
        ceiling = None
        if baseline_seconds:
            ceiling = wrk(receiver.base, "webhook_post.lua", concurrency=SEND_CONCURRENCY, seconds=baseline_seconds)
        seed_s = seed_payments(url, count, endpoint_url=f"{receiver.base}/hook")
        started_wall = time.time()
        srv = servers.kasse(url, workers=True).start()
        try:
            cpu_healthy = srv.cpu_s()  # the start-up's CPU left out
            stats = _wait_for(receiver, "distinct_events", count, timeout_s=60 + count / 20)
            cpu_done = srv.cpu_s()
            first, last = stats["first"], stats["last"]
            span = (last - first) if first and last else 0.0
            return {
                "database": kind,
                "deliveries": count,
                "delivered": stats["distinct_events"],
                "received_total": stats["received"],
                "seconds": span,
                "deliveries_per_s": (stats["distinct_events"] - 1) / span if span > 0 else 0.0,
                "from_start_s": (last - started_wall) if last else None,
                "cpu_us_per_delivery": per_item_us(cpu_healthy, cpu_done, stats["distinct_events"]),
                "seed_seconds": seed_s,
                "time_to_healthy_s": srv.time_to_healthy_s,
                "rss_after_mb": _mb(srv.rss()),
                "rss_peak_mb": _mb(srv.peak_rss()),
                "receiver_baseline": ceiling,
            }
        finally:
            srv.stop()
    finally:
        receiver.stop()
