"""``kasse check``: every invariant of DESIGN.md, verified against the stored rows of a live database.

An operator's tool (``kasse check``, docs/operations.md) and the oracle of the test suite: the tests'
consistency checks are these rules. Each rule reads one merchant's rows with a handful of bulk queries
and reports what breaks it as a ``Violation`` (rule, object, message) instead of stopping at the first.

The rules, by group:

- ledger: every transfer's legs sum to zero (and it has at least two); per currency the ledger sums to
  zero; a pending transfer is resolved at most once, and only pending transfers are resolved; the
  balances equal what the captures and refunds say (available = settled - refunded, incoming = captures
  in transit, the refund holds = refunds in flight);
- objects: each payment's totals agree with its captures and refunds (refunded ≤ captured ≤ amount,
  settled ≤ captured, money refunded only once it arrived), its state agrees with them, every open
  reservation in the ledger belongs to exactly one live payment or refund;
- history: each payment's, capture's and refund's events are a path through its transition table that
  ends in its current state;
- outbox: every event has a delivery for each enabled endpoint that wanted it and was last changed
  before the event (an endpoint changed since may have wanted it differently then);
- timers: no timer lost for a non-final object (a payment awaiting its customer has its expiry, an
  authorization awaiting capture its expiry, a capture in transit its settlement, a refund in flight
  its settlement), each unfired.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select

from kasse.domain.events import EventType
from kasse.domain.ledger import Account, Transfer, TransferKind, move
from kasse.domain.models import Capture, CaptureMethod, Event, Payment, Refund, Timer, TimerKind
from kasse.domain.states import PAYMENT_TRANSITIONS, REFUND_TRANSITIONS, CaptureState, PaymentState, RefundState
from kasse.domain.webhooks import Delivery, EndpointStatus, WebhookEndpoint
from kasse.engine.unit import Derivers, Kasse, _wants
from kasse.storage import schema
from kasse.storage.rows import from_row
from kasse.storage.store import Store

__all__ = ["RULES", "Report", "Violation", "check", "check_merchant"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Violation:
    merchant_id: str
    rule: str
    subject: str  # the object (or account, currency) it is about
    message: str


@dataclass(slots=True)
class Report:
    merchants: int = 0
    counted: Counter[str] = field(default_factory=Counter)  # rows read, by table
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass
class Rows:
    """One merchant's rows, read once, shared by every rule."""

    merchant_id: str
    derivers: Derivers
    payments: list[Payment]
    captures: list[Capture]
    refunds: list[Refund]
    transfers: list[Transfer]
    balances: dict[tuple[str, Account], tuple[int, int]]
    events: list[Event]
    timers: list[Timer]
    endpoints: list[WebhookEndpoint]
    deliveries: list[Delivery]
    found: list[Violation] = field(default_factory=list)

    def fail(self, rule: str, subject: str, message: str) -> None:
        self.found.append(Violation(self.merchant_id, rule, subject, message))

    def by_payment(self, objects: Iterable[T]) -> dict[str, list[T]]:
        grouped: dict[str, list[T]] = defaultdict(list)
        for obj in objects:
            grouped[obj.payment_id].append(obj)  # type: ignore[attr-defined]
        return grouped


def _objects(store: Store, table: Any, cls: type[T], merchant_id: str) -> list[T]:
    query = select(table).where(table.c.merchant_id == merchant_id).order_by(table.c.id)
    return [from_row(cls, row) for row in store.conn.execute(query).mappings()]


def read_rows(store: Store, merchant_id: str, derivers: Derivers) -> Rows:
    return Rows(
        merchant_id, derivers,
        payments=_objects(store, schema.payments, Payment, merchant_id),
        captures=_objects(store, schema.captures, Capture, merchant_id),
        refunds=_objects(store, schema.refunds, Refund, merchant_id),
        transfers=store.all_transfers(merchant_id=merchant_id),
        balances=store.account_balances(merchant_id=merchant_id),
        events=_objects(store, schema.events, Event, merchant_id),
        timers=_objects(store, schema.timers, Timer, merchant_id),
        endpoints=_objects(store, schema.webhook_endpoints, WebhookEndpoint, merchant_id),
        deliveries=_objects(store, schema.deliveries, Delivery, merchant_id),
    )  # fmt: skip


# --- ledger ---------------------------------------------------------------------------------------


def transfers_balance(rows: Rows) -> None:
    by_currency: Counter[str] = Counter()
    for t in rows.transfers:
        total = sum(leg.amount_minor for leg in t.legs)
        if total != 0 or len(t.legs) < 2:
            rows.fail("ledger.transfer_balances", t.id, f"its {len(t.legs)} legs sum to {total}, not 0")
        if t.moves_money:
            by_currency[t.currency] += total
    for currency, total in sorted(by_currency.items()):
        if total:
            rows.fail("ledger.sums_to_zero", currency, f"the ledger's {currency} transfers sum to {total}")


def pending_resolved_once(rows: Rows) -> None:
    kinds = {t.id: t.kind for t in rows.transfers}
    resolutions = Counter(t.pending_id for t in rows.transfers if t.pending_id)
    for pending_id, n in sorted(resolutions.items()):
        if n > 1:
            rows.fail("ledger.resolved_once", pending_id, f"the pending transfer is resolved {n} times")
        if kinds.get(pending_id) is not TransferKind.PENDING:
            rows.fail("ledger.resolved_once", pending_id, "a transfer that is not pending was resolved")


def _sums(rows: Rows) -> tuple[Counter[str], Counter[str], Counter[str], Counter[str]]:
    """Per currency: settled captures, captures in transit, refunds succeeded, refunds in flight."""
    settled: Counter[str] = Counter()
    in_transit: Counter[str] = Counter()
    for c in rows.captures:
        if c.status is CaptureState.SUCCEEDED:
            settled[c.currency] += c.amount_minor
        elif c.status is CaptureState.PENDING:
            in_transit[c.currency] += c.amount_minor
    refunded: Counter[str] = Counter()
    in_flight: Counter[str] = Counter()
    for r in rows.refunds:
        if r.status is RefundState.SUCCEEDED:
            refunded[r.currency] += r.amount_minor
        elif r.status is RefundState.PENDING and not r.deferred:
            in_flight[r.currency] += r.amount_minor
    return settled, in_transit, refunded, in_flight


def balances_agree(rows: Rows) -> None:
    settled, in_transit, refunded, in_flight = _sums(rows)
    for currency in sorted(set(settled) | set(refunded) | set(in_transit) | {c for c, _ in rows.balances}):
        available, held = rows.balances.get((currency, Account.AVAILABLE), (0, 0))
        incoming, _ = rows.balances.get((currency, Account.INCOMING), (0, 0))
        expected = settled[currency] - refunded[currency]
        if available != expected:
            rows.fail("ledger.balances", currency, f"available is {available}, settled - refunded is {expected}")
        if -held != in_flight[currency]:
            rows.fail("ledger.balances", currency, f"refund holds {-held}, refunds in flight {in_flight[currency]}")
        if incoming != in_transit[currency]:
            rows.fail("ledger.balances", currency, f"incoming {incoming}, captures in transit {in_transit[currency]}")


# --- objects --------------------------------------------------------------------------------------


def _totals(rows: Rows, payment: Payment, caps: list[Capture], refs: list[Refund]) -> None:
    live = sum(c.amount_minor for c in caps if c.status is not CaptureState.FAILED)
    settled = sum(c.amount_minor for c in caps if c.status is CaptureState.SUCCEEDED)
    refunded = sum(r.amount_minor for r in refs if r.status in (RefundState.PENDING, RefundState.SUCCEEDED))
    performed = sum(r.amount_minor for r in refs if r.status is not RefundState.CANCELED and not r.deferred)
    checks = [
        (payment.amount_captured_minor == live, f"captured total {payment.amount_captured_minor}, captures {live}"),
        (payment.amount_settled_minor == settled, f"settled total {payment.amount_settled_minor}, captures {settled}"),
        (payment.amount_refunded_minor == refunded, f"refunded {payment.amount_refunded_minor}, refunds {refunded}"),
        (performed <= settled, f"refunds of {performed} performed on {settled} arrived"),
        (0 <= payment.amount_refunded_minor <= payment.amount_captured_minor <= payment.amount_minor,
         "refunded ≤ captured ≤ amount does not hold"),
        (sorted(c.sequence for c in caps) == list(range(1, len(caps) + 1)), "capture sequence numbers have gaps"),
        (all(c.currency == payment.currency for c in caps) and all(r.currency == payment.currency for r in refs),
         "a capture or refund in another currency"),
    ]  # fmt: skip
    for ok, message in checks:
        if not ok:
            rows.fail("objects.totals", payment.id, message)


def _state(rows: Rows, payment: Payment, caps: list[Capture]) -> None:
    status = payment.status
    settled = sum(c.amount_minor for c in caps if c.status is CaptureState.SUCCEEDED)
    checks = [
        (status not in (PaymentState.REQUIRES_ACTION, PaymentState.FAILED, PaymentState.EXPIRED)
         or (payment.hold_transfer_id is None and payment.amount_capturable_minor == 0), "holds money it cannot"),
        (status not in (PaymentState.CANCELED, PaymentState.EXPIRED, PaymentState.REQUIRES_ACTION) or not caps,
         "has captures"),
        (status is not PaymentState.AUTHORIZED
         or (not caps and payment.amount_capturable_minor == payment.amount_minor),
         "is authorized but not for its whole amount"),
        (status is not PaymentState.SUCCEEDED or settled > 0, "succeeded with nothing settled"),
        (status is not PaymentState.FAILED
         or payment.amount_captured_minor == payment.amount_settled_minor == payment.amount_refunded_minor == 0,
         "failed with money captured, settled or refunded"),
    ]  # fmt: skip
    for ok, message in checks:
        if not ok:
            rows.fail("objects.state", payment.id, f"{status}: {message}")


def _hold(rows: Rows, payment: Payment, transfers: dict[str, Transfer]) -> None:
    """The payment's hold is an open reservation of exactly what it can still capture."""
    if payment.hold_transfer_id is None:
        if payment.amount_capturable_minor != 0:
            rows.fail("objects.hold", payment.id, f"can capture {payment.amount_capturable_minor} without a hold")
        return
    hold = transfers.get(payment.hold_transfer_id)
    held = sum(leg.amount_minor for leg in hold.legs if leg.account is Account.INCOMING) if hold else 0
    if held != payment.amount_capturable_minor:
        rows.fail("objects.hold", payment.id, f"holds {held} but can capture {payment.amount_capturable_minor}")


def _refund_ledger(rows: Rows, refund: Refund, by_refund: dict[str, list[Transfer]]) -> None:
    if (refund.deferred or refund.status is RefundState.CANCELED) and refund.id in by_refund:
        rows.fail("objects.refund_ledger", refund.id, f"{refund.status} (deferred {refund.deferred}) moved money")
    if refund.status is RefundState.SUCCEEDED:
        moved = [t.legs for t in by_refund.get(refund.id, []) if t.moves_money]
        if moved != [move(Account.AVAILABLE, Account.CUSTOMER, refund.amount_minor)]:
            rows.fail("objects.refund_ledger", refund.id, "succeeded without moving its amount exactly once")


def objects_agree(rows: Rows) -> None:
    resolved = {t.pending_id for t in rows.transfers if t.pending_id}
    open_holds = {t.id for t in rows.transfers if t.kind is TransferKind.PENDING and t.id not in resolved}
    by_refund: dict[str, list[Transfer]] = defaultdict(list)
    for t in rows.transfers:
        if t.refund_id:
            by_refund[t.refund_id].append(t)
    captures, refunds = rows.by_payment(rows.captures), rows.by_payment(rows.refunds)
    owners: list[str] = []
    transfers = {t.id: t for t in rows.transfers}
    for payment in rows.payments:
        caps, refs = captures.get(payment.id, []), refunds.get(payment.id, [])
        _totals(rows, payment, caps, refs)
        _state(rows, payment, caps)
        _hold(rows, payment, transfers)
        for refund in refs:
            _refund_ledger(rows, refund, by_refund)
        if payment.hold_transfer_id is not None:
            owners.append(payment.hold_transfer_id)
        owners += [r.hold_transfer_id for r in refs if r.hold_transfer_id and r.status is RefundState.PENDING]
    counted = Counter(owners)
    for hold in sorted(open_holds | set(counted)):
        if hold not in open_holds:
            rows.fail("objects.reservations", hold, "a live object points at a hold that is resolved (or missing)")
        elif counted[hold] != 1:
            rows.fail("objects.reservations", hold, f"an open reservation with {counted[hold]} owners, not 1")


# --- history --------------------------------------------------------------------------------------

_PAYMENT_EVENT_STATE = {
    EventType.PAYMENT_CREATED: PaymentState.REQUIRES_ACTION,
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
_CAPTURE_EVENTS = {
    CaptureState.PENDING: [EventType.CAPTURE_CREATED],
    CaptureState.SUCCEEDED: [EventType.CAPTURE_CREATED, EventType.CAPTURE_SUCCEEDED],
    CaptureState.FAILED: [EventType.CAPTURE_CREATED, EventType.CAPTURE_FAILED],
}
_PAYMENT_STEPS = {(src, dst) for (src, _), dst in PAYMENT_TRANSITIONS.items()}
_REFUND_STEPS = {(src, dst) for (src, _), dst in REFUND_TRANSITIONS.items()}


def _payment_history(rows: Rows, payment: Payment, events: list[Event]) -> None:
    mine = [e for e in events if e.type.startswith("payment.")]
    if not mine or mine[0].type != EventType.PAYMENT_CREATED:
        rows.fail("history.payment", payment.id, "its first event is not payment.created")
        return
    path = []
    for event in mine:
        shown = PaymentState(event.data["object"]["status"])
        if _PAYMENT_EVENT_STATE.get(EventType(event.type)) is not shown:
            rows.fail("history.payment", payment.id, f"{event.id} {event.type} shows {shown}")
        path.append(shown)
    for src, dst in itertools.pairwise(path):
        if (src, dst) not in _PAYMENT_STEPS:
            rows.fail("history.payment", payment.id, f"{src} → {dst} is not in the transition table")
    if path[-1] is not payment.status:
        rows.fail("history.payment", payment.id, f"is {payment.status} but its events end in {path[-1]}")


def _refund_history(rows: Rows, refund: Refund, events: list[Event]) -> None:
    if [e.type for e in events][:1] != [EventType.REFUND_CREATED]:
        rows.fail("history.refund", refund.id, "its first event is not refund.created")
        return
    states = [RefundState.PENDING] + [_REFUND_EVENT_STATE[EventType(e.type)] for e in events[1:]]
    for src, dst in itertools.pairwise(states):
        if (src, dst) not in _REFUND_STEPS:
            rows.fail("history.refund", refund.id, f"{src} → {dst} is not in the transition table")
    if states[-1] is not refund.status:
        rows.fail("history.refund", refund.id, f"is {refund.status} but its events end in {states[-1]}")


def histories(rows: Rows) -> None:
    history: dict[str, list[Event]] = defaultdict(list)
    for event in rows.events:  # the engine's own events, in the order they were made
        if ":" not in event.type:
            history[event.object_id].append(event)
    for payment in rows.payments:
        _payment_history(rows, payment, history.get(payment.id, []))
    for capture in rows.captures:
        types = [e.type for e in history.get(capture.id, [])]
        if types != _CAPTURE_EVENTS[capture.status]:
            rows.fail("history.capture", capture.id, f"{capture.status} with events {types}")
    for refund in rows.refunds:
        _refund_history(rows, refund, history.get(refund.id, []))


# --- outbox and timers ----------------------------------------------------------------------------


def outbox(rows: Rows) -> None:
    delivered = {(d.event_id, d.endpoint_id) for d in rows.deliveries}
    steady = [e for e in rows.endpoints if e.status is EndpointStatus.ENABLED]
    for event in rows.events:
        for endpoint in steady:
            changed_since = endpoint.updated_at >= event.created_at
            missing = (event.id, endpoint.id) not in delivered
            if missing and not changed_since and _wants(rows.derivers, endpoint, event):
                rows.fail("outbox.fan_out", event.id, f"{event.type} has no delivery to {endpoint.id}")


def _awaited(rows: Rows) -> list[tuple[str, str, str]]:
    """(timer kind, subject, why) for every non-final object that must have an unfired timer."""
    due: list[tuple[str, str, str]] = [(TimerKind.PAYMENT_EXPIRY, p.id, "awaits its customer") for p in rows.payments
                                       if p.status is PaymentState.REQUIRES_ACTION]  # fmt: skip
    due += [(TimerKind.AUTHORIZATION_EXPIRY, p.id, "awaits its capture") for p in rows.payments
            if p.status is PaymentState.AUTHORIZED and p.capture_method is CaptureMethod.MANUAL]  # fmt: skip
    due += [(TimerKind.CAPTURE_SETTLEMENT, c.id, "is in transit") for c in rows.captures
            if c.status is CaptureState.PENDING]  # fmt: skip
    due += [(TimerKind.REFUND_SETTLEMENT, r.id, "is in flight") for r in rows.refunds
            if r.status is RefundState.PENDING and not r.deferred and r.hold_transfer_id]  # fmt: skip
    return due


def timers_kept(rows: Rows) -> None:
    waiting = {(t.kind, t.subject_id) for t in rows.timers if t.fired_at is None}
    for kind, subject, why in _awaited(rows):
        if (kind, subject) not in waiting:
            rows.fail("timers.kept", subject, f"{why} but has no unfired {kind} timer")


Rule = Callable[[Rows], None]
RULES: dict[str, Rule] = {
    "ledger.transfer_balances, ledger.sums_to_zero": transfers_balance,
    "ledger.resolved_once": pending_resolved_once,
    "ledger.balances": balances_agree,
    "objects.*": objects_agree,
    "history.*": histories,
    "outbox.fan_out": outbox,
    "timers.kept": timers_kept,
}


def check_merchant(store: Store, merchant_id: str, derivers: Derivers, rules: Iterable[Rule] = RULES.values()) -> Rows:
    """Every rule over one merchant's rows; the violations are in ``.found``."""
    rows = read_rows(store, merchant_id, derivers)
    for rule in rules:
        rule(rows)
    return rows


def check(kasse: Kasse, merchant_id: str | None = None) -> Report:
    """Every rule over one merchant, or over every merchant, each read in one read transaction."""
    report = Report()
    with kasse.read() as store:
        ids = [merchant_id] if merchant_id else [m.id for m in store.list_merchants()]
    for mid in ids:
        with kasse.read() as store:
            rows = check_merchant(store, mid, kasse.hooks.derivers)
        report.merchants += 1
        report.violations += rows.found
        for name in ("payments", "captures", "refunds", "transfers", "events", "timers", "deliveries"):
            report.counted[name] += len(getattr(rows, name))
    return report
