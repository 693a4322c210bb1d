"""Refunds on both databases: immediate on settled money, deferred while it is in transit, canceled if
it never arrives; never more than was captured."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from kasse.domain.errors import Conflict, InvalidRequest
from kasse.domain.ledger import Account, TransferKind, move
from kasse.domain.models import CaptureMethod, Method, Refund, Scenario, Settlement, TimerKind
from kasse.domain.states import PaymentState, RefundState
from kasse.engine import captures, payments, refunds
from kasse.engine.unit import Kasse
from tests.helpers import DAY_S, advance_clock, check, leaves_no_trace, load_payment, new_payment, run, with_rules


@pytest.fixture(autouse=True)
def _consistent_afterwards(kasse: Kasse) -> Iterator[None]:
    yield
    check(kasse)


def _processing(kasse: Kasse, merchant_id: str, amount: int = 1000, **fields: object) -> str:
    p = new_payment(kasse, merchant_id, amount_minor=amount, **fields)
    run(kasse, merchant_id, payments.authorize, p.id)
    return p.id


def _succeeded(kasse: Kasse, merchant_id: str, amount: int = 1000) -> str:
    pid = _processing(kasse, merchant_id, amount)
    advance_clock(kasse, merchant_id=merchant_id, seconds=2 * DAY_S)
    assert load_payment(kasse, merchant_id, pid).status is PaymentState.SUCCEEDED
    return pid


def _refund(kasse: Kasse, merchant_id: str, pid: str, amount: int | None = None) -> Refund:
    return run(kasse, merchant_id, refunds.create_refund, pid, amount_minor=amount, reason="requested_by_customer")


def _stored(kasse: Kasse, merchant_id: str, refund_id: str) -> Refund:
    with kasse.read() as store:
        refund = store.get_refund(merchant_id=merchant_id, refund_id=refund_id)
    assert refund is not None
    return refund


def _available(kasse: Kasse, merchant_id: str) -> int:
    with kasse.read() as store:
        return store.account_balances(merchant_id=merchant_id).get(("EUR", Account.AVAILABLE), (0, 0))[0]


def test_a_refund_of_a_succeeded_payment_is_immediate(kasse: Kasse, merchant_id: str) -> None:
    pid = _succeeded(kasse, merchant_id)
    refund = _refund(kasse, merchant_id, pid)
    assert refund.id.startswith("rfd_")
    assert (refund.amount_minor, refund.status, refund.deferred) == (1000, RefundState.SUCCEEDED, False)
    assert refund.reason == "requested_by_customer"
    assert load_payment(kasse, merchant_id, pid).amount_refunded_minor == 1000
    assert _available(kasse, merchant_id) == 0
    with kasse.read() as store:
        last = store.all_transfers(merchant_id=merchant_id)[-1]
        types = [e.type for e in store.list_events(merchant_id=merchant_id, limit=2).items]
    assert (last.kind, last.code, last.refund_id) == (TransferKind.POSTED, "refund", refund.id)
    assert last.legs == move(Account.AVAILABLE, Account.CUSTOMER, 1000)
    assert types == ["refund.succeeded", "refund.created"]


def test_several_partial_refunds_never_more_than_captured(kasse: Kasse, merchant_id: str) -> None:
    pid = _succeeded(kasse, merchant_id)
    assert _refund(kasse, merchant_id, pid, 300).status is RefundState.SUCCEEDED
    assert _refund(kasse, merchant_id, pid, 500).status is RefundState.SUCCEEDED
    with leaves_no_trace(kasse, InvalidRequest) as err:
        _refund(kasse, merchant_id, pid, 201)
    assert err.value.code == "amount_too_large" and "200" in err.value.message
    last = _refund(kasse, merchant_id, pid)  # the rest
    assert last.amount_minor == 200
    assert load_payment(kasse, merchant_id, pid).amount_refunded_minor == 1000
    assert _available(kasse, merchant_id) == 0
    with leaves_no_trace(kasse, Conflict) as conflict:
        _refund(kasse, merchant_id, pid, 1)
    assert conflict.value.code == "already_refunded"


@pytest.mark.parametrize(
    ("amount", "code"), [(0, "amount_too_large"), (-100, "amount_too_large"), (2.5, "invalid_amount")]
)
def test_a_refund_amount_must_be_a_positive_int(kasse: Kasse, merchant_id: str, amount: int, code: str) -> None:
    pid = _succeeded(kasse, merchant_id)
    with leaves_no_trace(kasse, InvalidRequest) as err:
        _refund(kasse, merchant_id, pid, amount)
    assert err.value.code == code


@pytest.mark.parametrize("state", ["requires_action", "authorized", "canceled", "failed", "expired"])
def test_only_processing_or_succeeded_payments_can_be_refunded(kasse: Kasse, merchant_id: str, state: str) -> None:
    p = new_payment(kasse, merchant_id, method=Method.KLARNA_PAY_NOW, capture_method=CaptureMethod.MANUAL)
    if state == "authorized":
        run(kasse, merchant_id, payments.authorize, p.id)
    elif state == "canceled":
        run(kasse, merchant_id, payments.cancel, p.id)
    elif state == "failed":
        run(kasse, merchant_id, payments.decline, p.id)
    elif state == "expired":
        advance_clock(kasse, merchant_id=merchant_id, seconds=DAY_S)
    assert load_payment(kasse, merchant_id, p.id).status.value == state
    with leaves_no_trace(kasse, Conflict) as err:
        _refund(kasse, merchant_id, p.id)
    assert err.value.code == "payment_not_refundable"


def test_a_refund_of_a_processing_payment_waits_for_the_money(kasse: Kasse, merchant_id: str) -> None:
    pid = _processing(kasse, merchant_id)
    first = _refund(kasse, merchant_id, pid, 400)
    second = _refund(kasse, merchant_id, pid, 600)
    for r in (first, second):
        assert (r.status, r.deferred) == (RefundState.PENDING, True)
    with kasse.read() as store:
        assert not [t for t in store.all_transfers(merchant_id=merchant_id) if t.refund_id]
    assert load_payment(kasse, merchant_id, pid).amount_refunded_minor == 1000
    with leaves_no_trace(kasse, Conflict):
        _refund(kasse, merchant_id, pid, 1)  # deferred refunds count against what is left
    advance_clock(kasse, merchant_id=merchant_id, seconds=2 * DAY_S)
    assert load_payment(kasse, merchant_id, pid).status is PaymentState.SUCCEEDED
    for r in (first, second):
        done = _stored(kasse, merchant_id, r.id)
        assert (done.status, done.deferred) == (RefundState.SUCCEEDED, False)
    with kasse.read() as store:
        moved = [t.refund_id for t in store.all_transfers(merchant_id=merchant_id) if t.refund_id]
        succeeded = [e.object_id for e in reversed(store.list_events(merchant_id=merchant_id, limit=100).items)]
    assert moved == [first.id, second.id]  # performed in creation order
    assert [i for i in succeeded if i in (first.id, second.id)][-2:] == [first.id, second.id]
    assert _available(kasse, merchant_id) == 0


def test_a_deferred_refund_is_canceled_when_the_settlement_fails(kasse: Kasse, merchant_id: str) -> None:
    pid = _processing(kasse, merchant_id, scenario=Scenario(settlement=Settlement.FAIL))
    refund = _refund(kasse, merchant_id, pid, 250)
    advance_clock(kasse, merchant_id=merchant_id, seconds=2 * DAY_S)
    payment = load_payment(kasse, merchant_id, pid)
    assert payment.status is PaymentState.FAILED
    assert payment.amount_refunded_minor == 0
    stored = _stored(kasse, merchant_id, refund.id)
    assert (stored.status, stored.failure_reason) == (RefundState.CANCELED, "payment_failed")
    with kasse.read() as store:
        assert not [t for t in store.all_transfers(merchant_id=merchant_id) if t.refund_id]
        types = [e.type for e in store.list_events(merchant_id=merchant_id, limit=100, type="refund.*").items]
    assert types == ["refund.canceled", "refund.created"]


def test_a_refund_beyond_settled_money_waits_for_the_next_capture(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, method=Method.KLARNA_PAY_LATER, capture_method=CaptureMethod.MANUAL)
    run(kasse, merchant_id, payments.authorize, p.id)
    run(kasse, merchant_id, captures.capture, p.id, amount_minor=400, final=False)
    advance_clock(kasse, merchant_id=merchant_id, seconds=DAY_S)
    run(kasse, merchant_id, captures.capture, p.id, amount_minor=600)
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.SUCCEEDED
    now = _refund(kasse, merchant_id, p.id, 300)
    later = _refund(kasse, merchant_id, p.id, 500)  # 300 + 500 > the 400 settled so far
    assert (now.status, now.deferred) == (RefundState.SUCCEEDED, False)
    assert (later.status, later.deferred) == (RefundState.PENDING, True)
    check(kasse, merchant_id)
    advance_clock(kasse, merchant_id=merchant_id, seconds=DAY_S)
    assert _stored(kasse, merchant_id, later.id).status is RefundState.SUCCEEDED
    assert _available(kasse, merchant_id) == 200


def test_refunds_with_a_delay_hold_money_until_they_settle(kasse: Kasse, merchant_id: str) -> None:
    # Native refunds are immediate; a provider with a refund delay reserves the money first.
    kasse = with_rules(kasse, "native", refund_delay_s=3600)
    pid = _processing(kasse, merchant_id)
    refund = _refund(kasse, merchant_id, pid, 700)
    reading = advance_clock(kasse, merchant_id=merchant_id, seconds=2 * DAY_S + 3600)
    # The settlement performs the refund, whose own timer falls due within the same advance.
    kinds = [f.kind for f in reading.fired]
    assert kinds[-2:] == [TimerKind.CAPTURE_SETTLEMENT, TimerKind.REFUND_SETTLEMENT]
    assert reading.fired[-1].due_at == reading.fired[-2].due_at + timedelta(hours=1)
    stored = _stored(kasse, merchant_id, refund.id)
    assert stored.status is RefundState.SUCCEEDED and stored.hold_transfer_id is not None
    with kasse.read() as store:
        codes = [(t.kind, t.code) for t in store.all_transfers(merchant_id=merchant_id) if t.refund_id == refund.id]
    assert codes == [(TransferKind.PENDING, "refund"), (TransferKind.POST, "refund")]
    assert _available(kasse, merchant_id) == 300


def test_a_delayed_refund_is_reserved_before_it_settles(kasse: Kasse, merchant_id: str) -> None:
    kasse = with_rules(kasse, "native", refund_delay_s=3600)
    pid = _succeeded(kasse, merchant_id)
    refund = _refund(kasse, merchant_id, pid, 700)
    assert (refund.status, refund.deferred) == (RefundState.PENDING, False)
    with kasse.read() as store:
        assert store.account_balances(merchant_id=merchant_id)[("EUR", Account.AVAILABLE)] == (1000, -700)
    check(kasse, merchant_id)
    fired = advance_clock(kasse, merchant_id=merchant_id, seconds=3600).fired
    assert [(f.kind, f.subject_id) for f in fired] == [(TimerKind.REFUND_SETTLEMENT, refund.id)]
    assert _stored(kasse, merchant_id, refund.id).status is RefundState.SUCCEEDED
    assert _available(kasse, merchant_id) == 300


def test_a_timer_created_inside_a_batch_fires_before_later_timers_of_that_batch(kasse: Kasse, merchant_id: str) -> None:
    """Timers fire in batches; a settlement that schedules a refund settlement 1 h later must not let a
    timer due 2 h later (already in the batch) fire first."""
    kasse = with_rules(kasse, "native", refund_delay_s=3600)
    pid = _processing(kasse, merchant_id)
    _refund(kasse, merchant_id, pid, 700)  # deferred: performed when the capture settles, then 1 h to settle
    settles_at = load_payment(kasse, merchant_id, pid).authorized_at + timedelta(days=2)  # type: ignore[operator]
    later = new_payment(kasse, merchant_id, expires_in_s=int((settles_at - kasse.wall()).total_seconds()) + 7200)
    reading = advance_clock(kasse, merchant_id=merchant_id, seconds=3 * DAY_S)
    tail = [(f.kind, f.subject_id) for f in reading.fired][-3:]
    assert tail[0][0] is TimerKind.CAPTURE_SETTLEMENT
    assert tail[1][0] is TimerKind.REFUND_SETTLEMENT
    assert tail[2] == (TimerKind.PAYMENT_EXPIRY, later.id)
    due = [f.due_at for f in reading.fired]
    assert due == sorted(due)
