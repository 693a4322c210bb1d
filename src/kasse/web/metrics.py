"""Prometheus metrics: requests and latencies; payments by state and timers due, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kasse.domain.clock import MerchantClock
from kasse.engine.unit import Kasse

__all__ = ["CONTENT_TYPE", "observe_request", "registry_for"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_REQUEST_REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "kasse_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=_REQUEST_REGISTRY
)
LATENCY = Histogram(
    "kasse_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=_REQUEST_REGISTRY,
)


# The labelled children by (method, route, status): ``.labels()`` validates and joins its labels under a
# lock on every call; the children it answers never change, so each is looked up once. Bounded by the
# route templates times the methods and statuses they answer.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    children = _CHILDREN.get(key)
    if children is None:
        children = _CHILDREN[key] = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
    children[0].inc()
    children[1].observe(seconds)


class StateCollector(Collector):
    def __init__(self, kasse: Kasse) -> None:
        self.kasse = kasse

    def collect(self) -> Iterator[Any]:
        payments = GaugeMetricFamily("kasse_payments", "Payments by state", labels=["status"])
        timers = GaugeMetricFamily("kasse_timers_due", "Timers due on their merchant's clock, not yet fired")
        wall = self.kasse.wall()
        with self.kasse.read() as store:
            for status, count in sorted(store.count_payments_by_status().items()):
                payments.add_metric([status], count)
            due = 0
            for merchant_id in store.merchants_with_timers():
                merchant = store.get_merchant(merchant_id=merchant_id)
                if merchant is not None:
                    now = MerchantClock(merchant.clock_offset_us, merchant.clock_frozen_at).now(wall)
                    due += store.count_due_timers(merchant_id=merchant_id, until=now)
            timers.add_metric([], due)
        yield payments
        yield timers


def registry_for(kasse: Kasse) -> Any:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector(kasse))
    return registry


def render(kasse_registry: Any) -> bytes:
    return bytes(generate_latest(_REQUEST_REGISTRY)) + bytes(generate_latest(kasse_registry))
