"""Payment use cases on both databases with a test wall clock: create, authorize, decline, cancel,
capture (partial, several, final), expiry, settlement and its failure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from kasse.domain.errors import Conflict, InvalidRequest, InvalidTransition, NotFound
from kasse.domain.ledger import Account, TransferKind, move
from kasse.domain.models import Approval, CaptureMethod, Method, Scenario, Settlement, TimerKind
from kasse.domain.states import CaptureState, PaymentState, PaymentTrigger
from kasse.engine import captures, payments
from kasse.engine.unit import Kasse
from tests.helpers import DAY_S, advance_clock, check, leaves_no_trace, load_payment, new_payment, run, with_rules

KLARNA = Method.KLARNA_PAY_LATER


@pytest.fixture(autouse=True)
def _consistent_afterwards(kasse: Kasse) -> Iterator[None]:
    yield
    check(kasse)


def _manual(kasse: Kasse, merchant_id: str, amount: int = 10_000, **fields: object) -> str:
    """An authorized Klarna payment with manual capture: the whole amount held."""
    p = new_payment(
        kasse, merchant_id, amount_minor=amount, method=KLARNA, capture_method=CaptureMethod.MANUAL, **fields
    )
    run(kasse, merchant_id, payments.authorize, p.id)
    return p.id


def _advance(kasse: Kasse, merchant_id: str, seconds: float) -> list[tuple[TimerKind, str]]:
    reading = advance_clock(kasse, merchant_id=merchant_id, seconds=seconds)
    return [(f.kind, f.subject_id) for f in reading.fired]


def _types(kasse: Kasse, merchant_id: str, payment_id: str) -> list[str]:
    with kasse.read() as store:
        page = store.list_events(merchant_id=merchant_id, limit=100, payment_id=payment_id)
    return [e.type for e in sorted(page.items, key=lambda e: e.id)]


def _balances(kasse: Kasse, merchant_id: str) -> dict[Account, tuple[int, int]]:
    """EUR (posted, open pending) per account; accounts at (0, 0) left out."""
    with kasse.read() as store:
        out = store.account_balances(merchant_id=merchant_id).items()
    return {acc: v for (cur, acc), v in out if cur == "EUR" and v != (0, 0)}


# --- create ----------------------------------------------------------------------------------------


def test_create_records_the_payment_its_event_and_its_expiry(kasse: Kasse, merchant_id: str) -> None:
    now = kasse.merchant_now(merchant_id=merchant_id)
    p = new_payment(kasse, merchant_id, amount_minor=2599, reference="order-1", metadata={"k": "v"})
    stored = load_payment(kasse, merchant_id, p.id)
    assert stored == p
    assert stored.status is PaymentState.REQUIRES_ACTION
    assert stored.id.startswith("pay_") and stored.merchant_id == merchant_id
    assert (stored.amount_minor, stored.currency, stored.method, stored.country) == (2599, "EUR", Method.SOFORT, "DE")
    assert stored.created_at == now and stored.expires_at == now + timedelta(days=1)
    assert stored.amount_captured_minor == stored.amount_capturable_minor == 0
    assert _types(kasse, merchant_id, p.id) == ["payment.created"]
    with kasse.read() as store:
        (timer,) = store.pending_timers(merchant_id=merchant_id)
        assert (timer.kind, timer.subject_id, timer.due_at) == (TimerKind.PAYMENT_EXPIRY, p.id, stored.expires_at)
        assert store.all_transfers(merchant_id=merchant_id) == []


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"amount_minor": 0}, "amount_out_of_range"),
        ({"amount_minor": -5}, "amount_out_of_range"),
        ({"amount_minor": 100_000_000}, "amount_out_of_range"),
        ({"currency": "EURO"}, "invalid_currency"),
        ({"currency": "USD"}, "currency_not_supported"),
        ({"country": "US"}, "country_not_supported"),
        ({"method": KLARNA, "country": "SE", "currency": "EUR"}, "currency_country_mismatch"),
        ({"capture_method": CaptureMethod.MANUAL}, "capture_method_not_supported"),
        ({"amount_minor": 10.5}, "invalid_amount"),  # never a float, whatever a dialect hands over
        ({"amount_minor": 1000.0}, "invalid_amount"),
        ({"amount_minor": True}, "invalid_amount"),
        ({"expires_in_s": 0}, "invalid_expires_in"),
        ({"expires_in_s": -60}, "invalid_expires_in"),
    ],
)
def test_invalid_create_is_rejected_without_a_trace(
    kasse: Kasse, merchant_id: str, fields: dict[str, object], code: str
) -> None:
    with leaves_no_trace(kasse, InvalidRequest) as err:
        new_payment(kasse, merchant_id, **fields)
    assert err.value.code == code


def test_klarna_in_sweden_takes_sek(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, method=KLARNA, country="SE", currency="SEK")
    assert load_payment(kasse, merchant_id, p.id).currency == "SEK"


def test_scenario_approve_authorizes_and_captures_at_creation(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, scenario=Scenario(approval=Approval.APPROVE))
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.PROCESSING
    assert _types(kasse, merchant_id, p.id) == [
        "payment.created", "payment.authorized", "payment.processing", "capture.created",
    ]  # fmt: skip


def test_scenario_decline_fails_at_creation(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, scenario=Scenario(approval=Approval.DECLINE))
    stored = load_payment(kasse, merchant_id, p.id)
    assert stored.status is PaymentState.FAILED
    assert stored.failure_code == "bank_declined"
    assert _types(kasse, merchant_id, p.id) == ["payment.created", "payment.failed"]


def test_unknown_payment_is_not_found(kasse: Kasse, merchant_id: str) -> None:
    with leaves_no_trace(kasse, NotFound) as err:
        run(kasse, merchant_id, payments.authorize, "pay_doesnotexist")
    assert err.value.code == "resource_missing"
    assert "pay_doesnotexist" in err.value.message


# --- authorize and automatic capture ---------------------------------------------------------------


def test_authorize_sofort_captures_at_once(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, amount_minor=1500)
    now = kasse.merchant_now(merchant_id=merchant_id)
    run(kasse, merchant_id, payments.authorize, p.id)
    stored = load_payment(kasse, merchant_id, p.id)
    assert stored.status is PaymentState.PROCESSING
    assert stored.authorized_at == now
    assert (stored.amount_captured_minor, stored.amount_capturable_minor, stored.hold_transfer_id) == (1500, 0, None)
    with kasse.read() as store:
        (cap,) = store.captures_of(merchant_id=merchant_id, payment_id=p.id)
        transfers = store.all_transfers(merchant_id=merchant_id)
    assert (cap.amount_minor, cap.status, cap.final, cap.sequence) == (1500, CaptureState.PENDING, True, 1)
    assert cap.settles_at == now + timedelta(days=2)
    assert [(t.kind, t.code) for t in transfers] == [
        (TransferKind.PENDING, "authorization"),
        (TransferKind.POST, "capture"),
    ]
    assert transfers[1].pending_id == transfers[0].id
    assert _balances(kasse, merchant_id) == {Account.CUSTOMER: (-1500, 0), Account.INCOMING: (1500, 0)}
    assert _types(kasse, merchant_id, p.id) == [
        "payment.created", "payment.authorized", "payment.processing", "capture.created",
    ]  # fmt: skip


def test_sofort_settles_after_two_days(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, amount_minor=1500)
    run(kasse, merchant_id, payments.authorize, p.id)
    assert (TimerKind.CAPTURE_SETTLEMENT) not in {k for k, _ in _advance(kasse, merchant_id, 2 * DAY_S - 1)}
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.PROCESSING
    fired = _advance(kasse, merchant_id, 1)
    assert [k for k, _ in fired] == [TimerKind.CAPTURE_SETTLEMENT]
    stored = load_payment(kasse, merchant_id, p.id)
    assert stored.status is PaymentState.SUCCEEDED
    assert stored.amount_settled_minor == 1500
    assert _balances(kasse, merchant_id) == {
        Account.CUSTOMER: (-1500, 0), Account.AVAILABLE: (1500, 0),
    }  # fmt: skip
    assert _types(kasse, merchant_id, p.id)[-2:] == ["capture.succeeded", "payment.succeeded"]


def test_klarna_settles_after_one_day(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, method=KLARNA)
    run(kasse, merchant_id, payments.authorize, p.id)
    _advance(kasse, merchant_id, DAY_S - 1)
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.PROCESSING
    _advance(kasse, merchant_id, 1)
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.SUCCEEDED


@pytest.mark.parametrize("status_after", ["authorized", "processing", "succeeded"])
def test_authorize_twice_is_an_invalid_transition(kasse: Kasse, merchant_id: str, status_after: str) -> None:
    p = new_payment(kasse, merchant_id, method=KLARNA, capture_method=CaptureMethod.MANUAL)
    run(kasse, merchant_id, payments.authorize, p.id)
    if status_after != "authorized":
        run(kasse, merchant_id, captures.capture, p.id)
    if status_after == "succeeded":
        _advance(kasse, merchant_id, DAY_S)
    assert load_payment(kasse, merchant_id, p.id).status.value == status_after
    with leaves_no_trace(kasse, InvalidTransition) as err:
        run(kasse, merchant_id, payments.authorize, p.id)
    assert (err.value.state, err.value.trigger) == (status_after, "authorize")


# --- manual capture --------------------------------------------------------------------------------


def test_manual_authorization_holds_the_amount(kasse: Kasse, merchant_id: str) -> None:
    pid = _manual(kasse, merchant_id)
    stored = load_payment(kasse, merchant_id, pid)
    assert stored.status is PaymentState.AUTHORIZED
    assert (stored.amount_capturable_minor, stored.amount_captured_minor) == (10_000, 0)
    assert stored.hold_transfer_id is not None
    assert _balances(kasse, merchant_id) == {Account.CUSTOMER: (0, -10_000), Account.INCOMING: (0, 10_000)}
    with kasse.read() as store:
        due = {t.kind: t.due_at for t in store.pending_timers(merchant_id=merchant_id)}
    assert due[TimerKind.AUTHORIZATION_EXPIRY] == stored.authorized_at + timedelta(days=7)  # type: ignore[operator]


def test_several_partial_captures_up_to_the_authorized_amount(kasse: Kasse, merchant_id: str) -> None:
    pid = _manual(kasse, merchant_id)
    first = run(kasse, merchant_id, captures.capture, pid, amount_minor=3000, final=False)
    after_first = load_payment(kasse, merchant_id, pid)
    assert after_first.status is PaymentState.PROCESSING
    assert (after_first.amount_captured_minor, after_first.amount_capturable_minor) == (3000, 7000)
    second = run(kasse, merchant_id, captures.capture, pid, amount_minor=2000, final=False)
    assert load_payment(kasse, merchant_id, pid).status is PaymentState.PROCESSING
    check(kasse, merchant_id)
    third = run(kasse, merchant_id, captures.capture, pid)  # the rest
    stored = load_payment(kasse, merchant_id, pid)
    assert [(c.amount_minor, c.sequence, c.final) for c in (first, second, third)] == [
        (3000, 1, False), (2000, 2, False), (5000, 3, True),
    ]  # fmt: skip
    assert (stored.amount_captured_minor, stored.amount_capturable_minor, stored.hold_transfer_id) == (10_000, 0, None)
    assert _balances(kasse, merchant_id) == {Account.CUSTOMER: (-10_000, 0), Account.INCOMING: (10_000, 0)}
    with kasse.read() as store:
        codes = [(t.kind, t.code) for t in store.all_transfers(merchant_id=merchant_id)]
    assert codes == [
        (TransferKind.PENDING, "authorization"),
        (TransferKind.POST, "capture"),
        (TransferKind.PENDING, "authorization_remainder"),
        (TransferKind.POST, "capture"),
        (TransferKind.PENDING, "authorization_remainder"),
        (TransferKind.POST, "capture"),
    ]
    assert _types(kasse, merchant_id, pid).count("payment.processing") == 1
    _advance(kasse, merchant_id, DAY_S)
    stored = load_payment(kasse, merchant_id, pid)
    assert stored.status is PaymentState.SUCCEEDED and stored.amount_settled_minor == 10_000


def test_the_payment_succeeds_only_when_the_last_pending_capture_settles(kasse: Kasse, merchant_id: str) -> None:
    pid = _manual(kasse, merchant_id)
    run(kasse, merchant_id, captures.capture, pid, amount_minor=4000, final=False)
    _advance(kasse, merchant_id, 3600)
    run(kasse, merchant_id, captures.capture, pid, amount_minor=6000)
    _advance(kasse, merchant_id, DAY_S - 3600)  # the first settles, the second is still in transit
    stored = load_payment(kasse, merchant_id, pid)
    assert stored.status is PaymentState.PROCESSING and stored.amount_settled_minor == 4000
    _advance(kasse, merchant_id, 3600)
    stored = load_payment(kasse, merchant_id, pid)
    assert stored.status is PaymentState.SUCCEEDED and stored.amount_settled_minor == 10_000


def test_a_succeeded_payment_can_capture_the_rest_of_its_hold(kasse: Kasse, merchant_id: str) -> None:
    pid = _manual(kasse, merchant_id)
    run(kasse, merchant_id, captures.capture, pid, amount_minor=4000, final=False)
    _advance(kasse, merchant_id, DAY_S)
    stored = load_payment(kasse, merchant_id, pid)
    assert stored.status is PaymentState.SUCCEEDED and stored.amount_capturable_minor == 6000
    cap = run(kasse, merchant_id, captures.capture, pid, amount_minor=6000)
    assert cap.sequence == 2
    stored = load_payment(kasse, merchant_id, pid)
    assert stored.status is PaymentState.SUCCEEDED
    assert (stored.amount_captured_minor, stored.amount_settled_minor) == (10_000, 4000)
    _advance(kasse, merchant_id, DAY_S)
    assert load_payment(kasse, merchant_id, pid).amount_settled_minor == 10_000
    assert _types(kasse, merchant_id, pid).count("payment.succeeded") == 1


def test_a_final_partial_capture_releases_the_rest(kasse: Kasse, merchant_id: str) -> None:
    pid = _manual(kasse, merchant_id)
    cap = run(kasse, merchant_id, captures.capture, pid, amount_minor=4000)
    assert cap.final
    stored = load_payment(kasse, merchant_id, pid)
    assert (stored.amount_captured_minor, stored.amount_capturable_minor, stored.hold_transfer_id) == (4000, 0, None)
    assert _balances(kasse, merchant_id) == {Account.CUSTOMER: (-4000, 0), Account.INCOMING: (4000, 0)}
    with leaves_no_trace(kasse, Conflict) as err:
        run(kasse, merchant_id, captures.capture, pid, amount_minor=1)
    assert err.value.code == "nothing_to_capture"


@pytest.mark.parametrize("amount", [10.5, 100.0])
def test_capture_refuses_a_float_amount(kasse: Kasse, merchant_id: str, amount: float) -> None:
    pid = _manual(kasse, merchant_id)
    with leaves_no_trace(kasse, InvalidRequest) as err:
        run(kasse, merchant_id, captures.capture, pid, amount_minor=amount, final=False)
    assert err.value.code == "invalid_amount"


@pytest.mark.parametrize("amount", [10_001, 0, -1])
def test_capture_outside_the_hold_is_rejected(kasse: Kasse, merchant_id: str, amount: int) -> None:
    pid = _manual(kasse, merchant_id)
    with leaves_no_trace(kasse, InvalidRequest) as err:
        run(kasse, merchant_id, captures.capture, pid, amount_minor=amount)
    assert err.value.code == "amount_too_large" and err.value.param == "amount"


def test_over_capture_after_a_partial_capture_is_rejected(kasse: Kasse, merchant_id: str) -> None:
    pid = _manual(kasse, merchant_id)
    run(kasse, merchant_id, captures.capture, pid, amount_minor=7000, final=False)
    with leaves_no_trace(kasse, InvalidRequest):
        run(kasse, merchant_id, captures.capture, pid, amount_minor=3001)
    assert load_payment(kasse, merchant_id, pid).amount_capturable_minor == 3000


@pytest.mark.parametrize("how", ["requires_action", "canceled", "failed", "expired"])
def test_capture_without_an_authorization_is_an_invalid_transition(kasse: Kasse, merchant_id: str, how: str) -> None:
    p = new_payment(kasse, merchant_id, method=KLARNA, capture_method=CaptureMethod.MANUAL)
    if how == "canceled":
        run(kasse, merchant_id, payments.cancel, p.id)
    elif how == "failed":
        run(kasse, merchant_id, payments.decline, p.id)
    elif how == "expired":
        _advance(kasse, merchant_id, DAY_S)
    with leaves_no_trace(kasse, InvalidTransition) as err:
        run(kasse, merchant_id, captures.capture, p.id)
    assert (err.value.state, err.value.trigger) == (how, "capture")


# --- cancel, decline -------------------------------------------------------------------------------


def test_cancel_before_authorization_moves_no_money(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id)
    run(kasse, merchant_id, payments.cancel, p.id, reason="requested_by_merchant")
    stored = load_payment(kasse, merchant_id, p.id)
    assert stored.status is PaymentState.CANCELED and stored.cancellation_reason == "requested_by_merchant"
    assert _types(kasse, merchant_id, p.id) == ["payment.created", "payment.canceled"]
    assert _balances(kasse, merchant_id) == {}


def test_cancel_voids_the_hold(kasse: Kasse, merchant_id: str) -> None:
    pid = _manual(kasse, merchant_id)
    hold = load_payment(kasse, merchant_id, pid).hold_transfer_id
    run(kasse, merchant_id, payments.cancel, pid)
    stored = load_payment(kasse, merchant_id, pid)
    assert stored.status is PaymentState.CANCELED
    assert (stored.hold_transfer_id, stored.amount_capturable_minor) == (None, 0)
    with kasse.read() as store:
        void = store.all_transfers(merchant_id=merchant_id)[-1]
    assert (void.kind, void.pending_id, void.code) == (TransferKind.VOID, hold, "authorization_canceled")
    assert void.legs == move(Account.CUSTOMER, Account.INCOMING, 10_000)
    assert _balances(kasse, merchant_id) == {}
    assert _types(kasse, merchant_id, pid)[-1] == "payment.canceled"


@pytest.mark.parametrize("captured", [True, False])
def test_cancel_after_capture_is_an_invalid_transition(kasse: Kasse, merchant_id: str, captured: bool) -> None:
    pid = _manual(kasse, merchant_id)
    if captured:
        run(kasse, merchant_id, captures.capture, pid, amount_minor=100, final=False)
    else:
        run(kasse, merchant_id, payments.cancel, pid)
    state = "processing" if captured else "canceled"
    with leaves_no_trace(kasse, InvalidTransition) as err:
        run(kasse, merchant_id, payments.cancel, pid)
    assert (err.value.state, err.value.trigger) == (state, "cancel")


def test_decline_fails_the_payment(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id)
    run(kasse, merchant_id, payments.decline, p.id, code="insufficient_funds", message="No money")
    stored = load_payment(kasse, merchant_id, p.id)
    assert (stored.status, stored.failure_code, stored.failure_message) == (
        PaymentState.FAILED, "insufficient_funds", "No money",
    )  # fmt: skip
    with leaves_no_trace(kasse, InvalidTransition):
        run(kasse, merchant_id, payments.authorize, p.id)


def test_decline_after_authorization_is_an_invalid_transition(kasse: Kasse, merchant_id: str) -> None:
    pid = _manual(kasse, merchant_id)
    with leaves_no_trace(kasse, InvalidTransition) as err:
        run(kasse, merchant_id, payments.decline, pid)
    assert (err.value.state, err.value.trigger) == ("authorized", "decline")


# --- expiry ----------------------------------------------------------------------------------------


def test_an_unfinished_payment_expires_after_a_day(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id)
    assert _advance(kasse, merchant_id, DAY_S - 1) == []
    assert _advance(kasse, merchant_id, 1) == [(TimerKind.PAYMENT_EXPIRY, p.id)]
    stored = load_payment(kasse, merchant_id, p.id)
    assert stored.status is PaymentState.EXPIRED and stored.updated_at == p.expires_at
    assert _types(kasse, merchant_id, p.id) == ["payment.created", "payment.expired"]
    with leaves_no_trace(kasse, InvalidTransition):
        run(kasse, merchant_id, payments.authorize, p.id)


def test_expires_in_overrides_the_window(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, expires_in_s=600)
    _advance(kasse, merchant_id, 599)
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.REQUIRES_ACTION
    _advance(kasse, merchant_id, 1)
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.EXPIRED


def test_expiry_does_nothing_once_the_payment_moved_on(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, method=KLARNA)
    run(kasse, merchant_id, payments.authorize, p.id)
    fired = _advance(kasse, merchant_id, DAY_S)
    assert (TimerKind.PAYMENT_EXPIRY, p.id) in fired
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.SUCCEEDED
    assert "payment.expired" not in _types(kasse, merchant_id, p.id)


def test_an_unused_authorization_expires_after_seven_days(kasse: Kasse, merchant_id: str) -> None:
    pid = _manual(kasse, merchant_id)
    _advance(kasse, merchant_id, 7 * DAY_S - 1)
    assert load_payment(kasse, merchant_id, pid).status is PaymentState.AUTHORIZED
    fired = _advance(kasse, merchant_id, 1)
    assert fired == [(TimerKind.AUTHORIZATION_EXPIRY, pid)]
    stored = load_payment(kasse, merchant_id, pid)
    assert stored.status is PaymentState.EXPIRED
    assert (stored.hold_transfer_id, stored.amount_capturable_minor) == (None, 0)
    assert _balances(kasse, merchant_id) == {}
    assert _types(kasse, merchant_id, pid)[-1] == "payment.expired"


def test_authorization_expiry_after_a_partial_capture_only_releases_the_rest(kasse: Kasse, merchant_id: str) -> None:
    pid = _manual(kasse, merchant_id)
    run(kasse, merchant_id, captures.capture, pid, amount_minor=2500, final=False)
    _advance(kasse, merchant_id, 7 * DAY_S)
    stored = load_payment(kasse, merchant_id, pid)
    assert stored.status is PaymentState.SUCCEEDED
    assert (stored.amount_captured_minor, stored.amount_settled_minor, stored.amount_capturable_minor) == (
        2500,
        2500,
        0,
    )
    assert stored.hold_transfer_id is None
    assert _balances(kasse, merchant_id)[Account.AVAILABLE] == (2500, 0)
    assert "payment.expired" not in _types(kasse, merchant_id, pid)


# --- settlement failure ----------------------------------------------------------------------------


def test_a_failed_settlement_fails_the_payment_and_returns_the_money(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, amount_minor=800, scenario=Scenario(settlement=Settlement.FAIL))
    run(kasse, merchant_id, payments.authorize, p.id)
    _advance(kasse, merchant_id, 2 * DAY_S)
    stored = load_payment(kasse, merchant_id, p.id)
    assert stored.status is PaymentState.FAILED
    assert stored.failure_code == "settlement_failed"
    assert (stored.amount_captured_minor, stored.amount_settled_minor) == (0, 0)
    with kasse.read() as store:
        (cap,) = store.captures_of(merchant_id=merchant_id, payment_id=p.id)
        last = store.all_transfers(merchant_id=merchant_id)[-1]
    assert cap.status is CaptureState.FAILED
    assert (last.kind, last.code, last.legs) == (
        TransferKind.POSTED, "settlement_failed", move(Account.INCOMING, Account.CUSTOMER, 800),
    )  # fmt: skip
    assert _balances(kasse, merchant_id) == {}
    assert _types(kasse, merchant_id, p.id)[-2:] == ["capture.failed", "payment.failed"]


def test_a_failed_settlement_releases_the_open_rest_of_the_hold(kasse: Kasse, merchant_id: str) -> None:
    pid = _manual(kasse, merchant_id, scenario=Scenario(settlement=Settlement.FAIL))
    run(kasse, merchant_id, captures.capture, pid, amount_minor=1000, final=False)
    _advance(kasse, merchant_id, DAY_S)
    stored = load_payment(kasse, merchant_id, pid)
    assert stored.status is PaymentState.FAILED
    assert (stored.hold_transfer_id, stored.amount_capturable_minor, stored.amount_captured_minor) == (None, 0, 0)
    assert _balances(kasse, merchant_id) == {}


def test_a_provider_that_cancels_unused_authorizations(kasse: Kasse, merchant_id: str) -> None:
    # Stripe cancels (not expires) an unused authorization, after 6 hours; the engine reads it from the rules.
    kasse = with_rules(
        kasse, "native", unused_authorization_s=6 * 3600, unused_authorization_trigger=PaymentTrigger.CANCEL
    )
    pid = _manual(kasse, merchant_id)
    assert _advance(kasse, merchant_id, 6 * 3600) == [(TimerKind.AUTHORIZATION_EXPIRY, pid)]
    stored = load_payment(kasse, merchant_id, pid)
    assert (stored.status, stored.cancellation_reason, stored.amount_capturable_minor) == (
        PaymentState.CANCELED, "abandoned", 0,
    )  # fmt: skip
    assert _balances(kasse, merchant_id) == {}


# --- the customer's deadline -------------------------------------------------------------------------


@pytest.mark.parametrize("use_case", [payments.authorize, payments.decline])
def test_a_late_answer_from_the_bank_is_refused_before_the_expiry_timer_fires(
    kasse: Kasse, merchant_id: str, wall: object, use_case: object
) -> None:
    p = new_payment(kasse, merchant_id, expires_in_s=600)
    wall.tick(601)  # type: ignore[attr-defined]
    with leaves_no_trace(kasse, Conflict) as err:
        run(kasse, merchant_id, use_case, p.id)  # type: ignore[arg-type]
    assert isinstance(err.value, Conflict) and err.value.code == "payment_expired"
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.REQUIRES_ACTION
    fired = _advance(kasse, merchant_id, 0.001)
    assert fired == [(TimerKind.PAYMENT_EXPIRY, p.id)]
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.EXPIRED


def test_a_voided_authorization_keeps_its_currency_in_the_balances(kasse: Kasse, merchant_id: str) -> None:
    payment_id = _manual(kasse, merchant_id)
    run(kasse, merchant_id, payments.cancel, payment_id)
    with kasse.read() as store:
        balances = store.account_balances(merchant_id=merchant_id)
    assert balances[("EUR", Account.AVAILABLE)] == (0, 0)
    assert balances[("EUR", Account.INCOMING)] == (0, 0)
