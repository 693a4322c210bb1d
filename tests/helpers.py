"""Test helpers: a controllable wall clock and the ledger invariants of DESIGN.md."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from kasse.delivery import clock
from kasse.delivery.worker import Deliverer
from kasse.dialects.registry import outbound
from kasse.domain.errors import DomainError
from kasse.domain.events import EventType
from kasse.domain.ledger import Account, Transfer, TransferKind, move
from kasse.domain.models import Capture, Event, Method, Payment, Refund
from kasse.domain.states import PAYMENT_TRANSITIONS, REFUND_TRANSITIONS, CaptureState, PaymentState, RefundState
from kasse.engine import payments
from kasse.engine.timers import ClockReading
from kasse.engine.unit import Kasse
from kasse.storage import schema
from kasse.storage.rows import from_row
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


def assert_ledger_invariants(store: Store, merchant_id: str) -> None:
    """Every invariant DESIGN.md names, checked from the stored rows."""
    transfers = store.all_transfers(merchant_id=merchant_id)
    for t in transfers:
        assert sum(leg.amount_minor for leg in t.legs) == 0, f"transfer {t.id} does not balance"
        assert len(t.legs) >= 2
    by_currency: Counter[str] = Counter()
    for t in transfers:
        if t.moves_money:
            by_currency[t.currency] += sum(leg.amount_minor for leg in t.legs)
    assert all(v == 0 for v in by_currency.values()), "the ledger does not sum to zero"

    # A pending transfer resolves once, and only pending transfers are resolved.
    kinds = {t.id: t.kind for t in transfers}
    resolutions = Counter(t.pending_id for t in transfers if t.pending_id)
    assert all(n == 1 for n in resolutions.values()), "a pending transfer was resolved twice"
    assert all(kinds.get(pid) is TransferKind.PENDING for pid in resolutions), "resolved a non-pending transfer"

    # Balances equal what the payment objects say.
    balances = store.account_balances(merchant_id=merchant_id)
    captures = store.conn.execute(select(schema.captures).where(schema.captures.c.merchant_id == merchant_id))
    refunds = store.conn.execute(select(schema.refunds).where(schema.refunds.c.merchant_id == merchant_id))
    settled: Counter[str] = Counter()
    in_transit: Counter[str] = Counter()
    for c in captures.mappings():
        if c["status"] == CaptureState.SUCCEEDED:
            settled[c["currency"]] += c["amount_minor"]
        elif c["status"] == CaptureState.PENDING:
            in_transit[c["currency"]] += c["amount_minor"]
    refunded: Counter[str] = Counter()
    refunds_in_flight: Counter[str] = Counter()
    for r in refunds.mappings():
        if r["status"] == RefundState.SUCCEEDED:
            refunded[r["currency"]] += r["amount_minor"]
        elif r["status"] == RefundState.PENDING and not r["deferred"]:
            refunds_in_flight[r["currency"]] += r["amount_minor"]
    for currency in set(settled) | set(refunded) | set(in_transit) | {c for c, _ in balances}:
        available, held = balances.get((currency, Account.AVAILABLE), (0, 0))
        assert available == settled[currency] - refunded[currency], f"available {currency} != settled - refunded"
        assert -held == refunds_in_flight[currency], f"refund holds {currency} disagree"
        incoming, _ = balances.get((currency, Account.INCOMING), (0, 0))
        assert incoming == in_transit[currency], f"incoming {currency} != captures in transit"

    # Each payment: refunded never exceeds captured; the open hold equals the capturable amount.
    payments = store.conn.execute(select(schema.payments).where(schema.payments.c.merchant_id == merchant_id))
    open_pending = {t.id for t in transfers if t.kind is TransferKind.PENDING and t.id not in resolutions}
    for p in payments.mappings():
        assert 0 <= p["amount_refunded_minor"] <= p["amount_captured_minor"] <= p["amount_minor"]
        assert p["amount_settled_minor"] <= p["amount_captured_minor"]
        if p["hold_transfer_id"] is None:
            assert p["amount_capturable_minor"] == 0
        else:
            assert p["hold_transfer_id"] in open_pending, f"payment {p['id']} points at a resolved hold"
            held_amount = store.get_transfer_amount(
                merchant_id=merchant_id, transfer_id=p["hold_transfer_id"], account=Account.INCOMING
            )
            assert held_amount == p["amount_capturable_minor"]


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


def events_by_subject(store: Store, merchant_id: str) -> dict[str, list[Event]]:
    """Each object's events, oldest first (ids sort by creation)."""
    page = store.list_events(merchant_id=merchant_id, limit=1_000_000)
    out: dict[str, list[Event]] = {}
    for event in sorted(page.items, key=lambda e: e.id):
        out.setdefault(event.object_id, []).append(event)
    return out


_PAYMENT_EVENT_STATE = {
    EventType.PAYMENT_AUTHORIZED: PaymentState.AUTHORIZED,
    EventType.PAYMENT_PROCESSING: PaymentState.PROCESSING,
    EventType.PAYMENT_SUCCEEDED: PaymentState.SUCCEEDED,
    EventType.PAYMENT_FAILED: PaymentState.FAILED,
    EventType.PAYMENT_CANCELED: PaymentState.CANCELED,
    EventType.PAYMENT_EXPIRED: PaymentState.EXPIRED,
}
_REFUND_EVENT_STATE = {
    EventType.REFUND_SUCCEEDED: RefundState.SUCCEEDED,
    EventType.REFUND_FAILED: RefundState.FAILED,
    EventType.REFUND_CANCELED: RefundState.CANCELED,
}


def payment_path(events: list[Event]) -> list[PaymentState]:
    """The states a payment went through according to its ``payment.*`` events."""
    return [PaymentState(e.data["object"]["status"]) for e in events if e.type.startswith("payment.")]


def assert_events_follow_tables(store: Store, merchant_id: str) -> None:
    """Every payment's, capture's and refund's recorded history is a path through its transition table
    that ends in the object's current state; each event's snapshot shows the state its type names."""
    allowed = {(src, dst) for (src, _), dst in PAYMENT_TRANSITIONS.items()}
    refund_allowed = {(src, dst) for (src, _), dst in REFUND_TRANSITIONS.items()}
    history = events_by_subject(store, merchant_id)
    refunds: dict[str, list[Refund]] = {}
    for r in _objects(store, schema.refunds, Refund, merchant_id):
        refunds.setdefault(r.payment_id, []).append(r)
    captures: dict[str, list[Capture]] = {}
    for c in _objects(store, schema.captures, Capture, merchant_id):
        captures.setdefault(c.payment_id, []).append(c)
    for payment in _objects(store, schema.payments, Payment, merchant_id):
        events = [e for e in history.get(payment.id, []) if e.type.startswith("payment.")]
        assert events and events[0].type == EventType.PAYMENT_CREATED, f"{payment.id} has no payment.created first"
        path = payment_path(events)
        assert path[0] is PaymentState.REQUIRES_ACTION
        for event, state in zip(events[1:], path[1:], strict=True):
            assert _PAYMENT_EVENT_STATE[EventType(event.type)] is state, f"{event.type} shows {state}"
        for src, dst in itertools.pairwise(path):
            assert (src, dst) in allowed, f"{payment.id}: {src} → {dst} is not in the table"
        assert path[-1] is payment.status, f"{payment.id} is {payment.status} but its events end in {path[-1]}"
        for capture in captures.get(payment.id, []):
            types = [e.type for e in history.get(capture.id, [])]
            expected = {CaptureState.PENDING: [], CaptureState.SUCCEEDED: [EventType.CAPTURE_SUCCEEDED],
                        CaptureState.FAILED: [EventType.CAPTURE_FAILED]}[capture.status]  # fmt: skip
            assert types == [EventType.CAPTURE_CREATED, *expected], f"{capture.id} {capture.status}: {types}"
        for refund in refunds.get(payment.id, []):
            revents = history.get(refund.id, [])
            assert [e.type for e in revents][:1] == [EventType.REFUND_CREATED]
            states = [RefundState.PENDING] + [_REFUND_EVENT_STATE[EventType(e.type)] for e in revents[1:]]
            for src, dst in itertools.pairwise(states):
                assert (src, dst) in refund_allowed, f"{refund.id}: {src} → {dst} is not in the table"
            assert states[-1] is refund.status


def _objects(store: Store, table: Any, cls: type[T], merchant_id: str) -> list[T]:
    query = select(table).where(table.c.merchant_id == merchant_id).order_by(table.c.id)
    return [from_row(cls, row) for row in store.conn.execute(query).mappings()]


def assert_objects_agree(store: Store, merchant_id: str) -> None:
    """The running totals on each payment agree with its captures, refunds and ledger transfers, and
    every open reservation in the ledger belongs to exactly one live object. (Bulk reads: the property
    tests call this after every step.)"""
    transfers = store.all_transfers(merchant_id=merchant_id)
    resolved = {t.pending_id for t in transfers if t.pending_id}
    open_holds = {t.id for t in transfers if t.kind is TransferKind.PENDING and t.id not in resolved}
    by_refund: dict[str, list[Transfer]] = {}
    for t in transfers:
        if t.refund_id:
            by_refund.setdefault(t.refund_id, []).append(t)
    captures: dict[str, list[Capture]] = {}
    for c in _objects(store, schema.captures, Capture, merchant_id):
        captures.setdefault(c.payment_id, []).append(c)
    refunds: dict[str, list[Refund]] = {}
    for r in _objects(store, schema.refunds, Refund, merchant_id):
        refunds.setdefault(r.payment_id, []).append(r)
    owners: list[str] = []
    for payment in _objects(store, schema.payments, Payment, merchant_id):
        caps, refs = captures.get(payment.id, []), refunds.get(payment.id, [])
        live = [c.amount_minor for c in caps if c.status is not CaptureState.FAILED]
        assert payment.amount_captured_minor == sum(live), f"{payment.id} captured total disagrees"
        settled = sum(c.amount_minor for c in caps if c.status is CaptureState.SUCCEEDED)
        assert payment.amount_settled_minor == settled, f"{payment.id} settled total disagrees"
        refunded = sum(r.amount_minor for r in refs if r.status in (RefundState.PENDING, RefundState.SUCCEEDED))
        assert payment.amount_refunded_minor == refunded, f"{payment.id} refunded total disagrees"
        performed = sum(r.amount_minor for r in refs if r.status is not RefundState.CANCELED and not r.deferred)
        assert performed <= settled, f"{payment.id} refunded money that has not arrived"
        assert sorted(c.sequence for c in caps) == list(range(1, len(caps) + 1))
        assert all(c.currency == payment.currency for c in caps) and all(r.currency == payment.currency for r in refs)
        if payment.hold_transfer_id is not None:
            owners.append(payment.hold_transfer_id)
        owners.extend(r.hold_transfer_id for r in refs if r.hold_transfer_id and r.status is RefundState.PENDING)
        if payment.status in (PaymentState.REQUIRES_ACTION, PaymentState.FAILED, PaymentState.EXPIRED):
            assert payment.hold_transfer_id is None and payment.amount_capturable_minor == 0
        if payment.status in (PaymentState.CANCELED, PaymentState.EXPIRED, PaymentState.REQUIRES_ACTION):
            assert not caps, f"{payment.id} is {payment.status} but has captures"
        if payment.status is PaymentState.AUTHORIZED:
            assert not caps and payment.amount_capturable_minor == payment.amount_minor
        if payment.status is PaymentState.SUCCEEDED:
            assert settled > 0
        if payment.status is PaymentState.FAILED:
            assert payment.amount_captured_minor == payment.amount_settled_minor == payment.amount_refunded_minor == 0
        for refund in refs:
            if refund.deferred or refund.status is RefundState.CANCELED:
                assert refund.status in (RefundState.PENDING, RefundState.CANCELED)
                assert refund.id not in by_refund, f"{refund.id} touched the ledger"
            if refund.status is RefundState.SUCCEEDED:
                moved = [t.legs for t in by_refund.get(refund.id, []) if t.moves_money]
                expected = move(Account.AVAILABLE, Account.CUSTOMER, refund.amount_minor)
                assert moved == [expected], f"{refund.id} did not move its amount once"
    assert sorted(owners) == sorted(open_holds), "an open reservation in the ledger has no owner (or two)"


def assert_time_moves_forward(store: Store, merchant_id: str) -> None:
    """Events and ledger transfers, in creation order, never go back in merchant time."""
    events = sorted(store.list_events(merchant_id=merchant_id, limit=1_000_000).items, key=lambda e: e.id)
    for earlier, later in itertools.pairwise(events):
        assert earlier.created_at <= later.created_at, f"{later.type} {later.id} is dated before {earlier.id}"
    transfers = store.all_transfers(merchant_id=merchant_id)
    for earlier, later in itertools.pairwise(transfers):
        assert earlier.created_at <= later.created_at, f"transfer {later.id} is dated before {earlier.id}"


def assert_consistent(store: Store, merchant_id: str) -> None:
    """Everything checkable from the rows: the ledger invariants, the objects' totals, the histories."""
    assert_ledger_invariants(store, merchant_id)
    assert_objects_agree(store, merchant_id)
    assert_events_follow_tables(store, merchant_id)


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
