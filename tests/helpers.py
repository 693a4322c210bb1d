"""Test helpers: a controllable wall clock and the ledger invariants of DESIGN.md."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from kasse.delivery import clock
from kasse.delivery.worker import Deliverer
from kasse.dialects import registry
from kasse.dialects.registry import outbound
from kasse.domain.errors import DomainError
from kasse.domain.models import Method, Payment
from kasse.engine import check as check_rules
from kasse.engine import payments
from kasse.engine.check import RULES, check_merchant
from kasse.engine.timers import ClockReading
from kasse.engine.unit import Kasse
from kasse.storage import schema
from kasse.storage.store import Store

T = TypeVar("T")


class FakeWall:
    """A wall clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _assert_rules(store: Store, merchant_id: str, *rules: Any) -> None:
    """The rules of ``kasse.engine.check`` (the invariants of DESIGN.md, ``kasse check``) hold for the merchant."""
    found = check_merchant(store, merchant_id, registry.hooks().derivers, rules or RULES.values()).found
    assert not found, "invariants broken:\n" + "\n".join(f"  {v.rule} {v.subject}: {v.message}" for v in found)


def assert_ledger_invariants(store: Store, merchant_id: str) -> None:
    """Every ledger invariant DESIGN.md names, checked from the stored rows."""
    _assert_rules(store, merchant_id, check_rules.transfers_balance, check_rules.pending_resolved_once,
                  check_rules.balances_agree)  # fmt: skip


# --- engine shortcuts and deeper checks (engine, storage and property tests) -----------------------


def with_rules(kasse: Kasse, origin: str, **changes: Any) -> Kasse:
    """The same engine on the same database, with ``origin``'s provider rules changed (a provider whose
    refunds are delayed, whose unused authorizations are canceled…)."""
    rules = {**kasse.hooks.rules, origin: dataclasses.replace(kasse.hooks.rules[origin], **changes)}
    return Kasse(kasse.db, hooks=dataclasses.replace(kasse.hooks, rules=rules), wall=kasse.wall, pause=kasse.pause)


def run(kasse: Kasse, merchant_id: str, use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one use case in its own unit of work (one transaction), as a front door would."""
    with kasse.unit(merchant_id=merchant_id) as tx:
        return use_case(tx, *args, **kwargs)


def new_payment(kasse: Kasse, merchant_id: str, **fields: Any) -> Payment:
    """Create a payment: 10.00 EUR Sofort in Germany unless told otherwise."""
    values: dict[str, Any] = {
        "amount_minor": 1000,
        "currency": "EUR",
        "method": Method.SOFORT,
        "country": "DE",
        "origin": "native",
    }
    values.update(fields)
    return run(kasse, merchant_id, payments.create_payment, payments.CreatePayment(**values))


def load_payment(kasse: Kasse, merchant_id: str, payment_id: str) -> Payment:
    with kasse.read() as store:
        payment = store.get_payment(merchant_id=merchant_id, payment_id=payment_id)
    assert payment is not None, f"payment {payment_id} is gone"
    return payment


def row_counts(store: Store, merchant_id: str | None = None) -> dict[str, int]:
    """Rows per table (all merchants unless one is named): what a rejected use case must not change."""
    out = {}
    for table in schema.metadata.sorted_tables:
        query = select(func.count()).select_from(table)
        if merchant_id is not None and "merchant_id" in table.c:
            query = query.where(table.c.merchant_id == merchant_id)
        out[table.name] = int(store.conn.execute(query).scalar_one())
    return out


def assert_time_moves_forward(store: Store, merchant_id: str) -> None:
    """Events and ledger transfers, in creation order, never go back in merchant time."""
    events = sorted(store.list_events(merchant_id=merchant_id, limit=1_000_000).items, key=lambda e: e.id)
    for earlier, later in itertools.pairwise(events):
        assert earlier.created_at <= later.created_at, f"{later.type} {later.id} is dated before {earlier.id}"
    transfers = store.all_transfers(merchant_id=merchant_id)
    for earlier, later in itertools.pairwise(transfers):
        assert earlier.created_at <= later.created_at, f"transfer {later.id} is dated before {earlier.id}"


def assert_consistent(store: Store, merchant_id: str) -> None:
    """Everything checkable from the rows (every rule of ``kasse check``): the ledger, the objects'
    totals, the histories, the outbox's fan-out and the timers of every non-final object."""
    _assert_rules(store, merchant_id)


def dump(kasse: Kasse, merchant_id: str | None = None) -> dict[str, list[str]]:
    """Every row of every table (or of one merchant), for "a rejected request leaves no trace" (rule 8)."""
    out = {}
    with kasse.read() as store:
        for table in schema.metadata.sorted_tables:
            query = select(table)
            if merchant_id is not None:
                column = table.c.merchant_id if "merchant_id" in table.c else table.c.id
                query = query.where(column == merchant_id)
            out[table.name] = sorted(repr(tuple(row)) for row in store.conn.execute(query))
    return out


@contextmanager
def leaves_no_trace(
    kasse: Kasse, error: type[Exception] = DomainError, *, merchant_id: str | None = None
) -> Iterator[pytest.ExceptionInfo[Exception]]:
    """The block must raise ``error`` and leave every table exactly as it was."""
    before = dump(kasse, merchant_id)
    with pytest.raises(error) as info:
        yield info
    assert dump(kasse, merchant_id) == before, "a rejected use case changed the database"


def check(kasse: Kasse, merchant_id: str | None = None) -> None:
    """``assert_consistent`` for one merchant, or for every merchant."""
    with kasse.read() as store:
        ids = [merchant_id] if merchant_id else [m.id for m in store.list_merchants()]
        for mid in ids:
            assert_consistent(store, mid)


DAY_S = 86_400


class ShopPage(BaseHTTPRequestHandler):
    """A shop's return page for the browser tests: recognisable, and quiet in the test output."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>Shop</title><h1>Back at the shop</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def advance_clock(kasse: Kasse, *, merchant_id: str, seconds: float) -> ClockReading:
    """The one clock advance (``kasse.delivery.clock.advance``), for tests of the engine that have no
    webhook endpoint: timers fire at their due times, and any delivery would go nowhere."""
    deliverer = Deliverer(kasse, outbound=outbound(), base_url="http://127.0.0.1:1")
    try:
        reading, _ = clock.advance(deliverer, merchant_id=merchant_id, seconds=seconds)
    finally:
        deliverer.close()
    return reading
