"""Captures: money set in motion from an authorization, and its settlement (or its failure)."""

from __future__ import annotations

from datetime import timedelta

from kasse.domain.errors import Conflict, DomainError, ErrorCode, InvalidRequest
from kasse.domain.events import EventType
from kasse.domain.ledger import Account
from kasse.domain.models import Capture, CaptureMethod, Payment, Scenario, Settlement, TimerKind
from kasse.domain.money import require_minor
from kasse.domain.rules import sampled_failure
from kasse.domain.states import CaptureState, CaptureTrigger, PaymentState, PaymentTrigger, apply_capture, apply_payment
from kasse.engine import postings, refunds
from kasse.engine.lifecycle import get_payment, release_hold, transition
from kasse.engine.unit import Tx

__all__ = ["capture", "release_remainder", "settle_capture"]


def capture(
    tx: Tx,
    payment_id: str,
    *,
    amount_minor: int | None = None,
    final: bool = True,
    payment: Payment | None = None,
) -> Capture:
    """Move money: post (part of) the hold; a non-final capture keeps the rest open for more."""
    payment = payment or get_payment(tx, payment_id)
    amount = payment.amount_capturable_minor if amount_minor is None else require_minor(amount_minor)
    try:
        apply_payment(payment.status, PaymentTrigger.CAPTURE)  # raises if illegal
        if payment.amount_capturable_minor == 0:
            raise Conflict(ErrorCode.NOTHING_TO_CAPTURE, f"Payment {payment.id} has nothing left to capture")
    except DomainError as exc:
        if payment.capture_method is CaptureMethod.AUTOMATIC:
            # Say why, not only what: a Sofort payment was captured when the customer approved it.
            exc.message += (
                f": {payment.method.value} is captured with the authorization (capture_method automatic), "
                "so there is nothing to capture by hand"
            )
            exc.args = (exc.message,)
        raise
    if not 0 < amount <= payment.amount_capturable_minor:
        raise InvalidRequest(
            ErrorCode.AMOUNT_TOO_LARGE,
            f"amount must be between 1 and {payment.amount_capturable_minor} (the capturable amount)",
            param="amount",
        )
    assert payment.hold_transfer_id is not None
    held = payment.amount_capturable_minor
    postings.resolve(
        tx, payment.hold_transfer_id, currency=payment.currency, source=Account.CUSTOMER,
        destination=Account.INCOMING, post_minor=amount, held_minor=held, code="capture", payment_id=payment.id,
    )  # fmt: skip
    remainder = held - amount
    payment.hold_transfer_id, payment.amount_capturable_minor = None, 0
    if remainder and not final:
        rest = postings.hold(
            tx, currency=payment.currency, source=Account.CUSTOMER, destination=Account.INCOMING,
            amount_minor=remainder, code="authorization_remainder", payment_id=payment.id,
        )  # fmt: skip
        payment.hold_transfer_id, payment.amount_capturable_minor = rest.id, remainder
    _sample_failure(tx, payment)
    delay_s = 0 if _settles_with_capture(tx, payment, amount) else _settlement_delay_s(tx, payment)
    sequence = len(tx.store.captures_of(merchant_id=tx.merchant_id, payment_id=payment.id)) + 1
    cap = Capture(
        id=tx.new_id("capture"), merchant_id=tx.merchant_id, payment_id=payment.id, amount_minor=amount,
        currency=payment.currency, status=CaptureState.PENDING, final=final or not remainder,
        created_at=tx.now, updated_at=tx.now, settles_at=tx.now + timedelta(seconds=delay_s), sequence=sequence,
    )  # fmt: skip
    tx.store.insert_capture(cap)
    payment.amount_captured_minor += amount
    transition(tx, payment, PaymentTrigger.CAPTURE)
    tx.emit(EventType.CAPTURE_CREATED, cap)
    if _settles_with_capture(tx, payment, amount):
        settle_capture(tx, cap.id)  # MultiSafepay: under 100 EUR "completed immediately", never uncleared
        settled = get_payment(tx, payment.id)
        for name in Payment.__slots__:  # the caller's object follows the stored one
            setattr(payment, name, getattr(settled, name))
        return tx.store.get_capture(merchant_id=tx.merchant_id, capture_id=cap.id) or cap
    tx.schedule(TimerKind.CAPTURE_SETTLEMENT, cap.id, after_s=delay_s)
    return cap


def _settles_with_capture(tx: Tx, payment: Payment, amount_minor: int) -> bool:
    below = tx.rules_of(payment.origin).settle_at_once_below_minor
    return below is not None and amount_minor < below and not payment.scenario.settlement.fails


def _sample_failure(tx: Tx, payment: Payment) -> None:
    if not tx.rules_of(payment.origin).sampled_failures or payment.scenario.settlement is not Settlement.SUCCEED:
        return
    rates = tx.store.merchant_settings(merchant_id=tx.merchant_id).get("failure_rates") or {}
    rate = rates.get(payment.origin, 0) if isinstance(rates, dict) else 0
    if isinstance(rate, int | float) and sampled_failure(payment.id, float(rate)):
        payment.scenario = Scenario(payment.scenario.approval, Settlement.FAIL)


def _settlement_delay_s(tx: Tx, payment: Payment) -> int:
    rules = tx.rules_of(payment.origin)
    settlement = payment.scenario.settlement
    if settlement.at_once:
        return 0
    if settlement is Settlement.FAIL and rules.settlement_cutoff_s is not None:
        return rules.settlement_cutoff_s  # the money never arrives: failed at the cut-off
    return rules.settlement_delay_at(payment.method, tx.now)


def settle_capture(tx: Tx, capture_id: str) -> Capture | None:
    """Timer: the money of a capture arrives, or (scenario) never does."""
    cap = tx.store.get_capture(merchant_id=tx.merchant_id, capture_id=capture_id)
    if cap is None or cap.status is not CaptureState.PENDING:
        return None
    payment = get_payment(tx, cap.payment_id)
    fails = payment.scenario.settlement.fails
    cap.status = apply_capture(cap.status, CaptureTrigger.FAIL if fails else CaptureTrigger.SETTLE)
    cap.updated_at = tx.now
    tx.store.update_capture(cap)
    destination = Account.CUSTOMER if fails else Account.AVAILABLE
    postings.posted(
        tx, currency=cap.currency, source=Account.INCOMING, destination=destination,
        amount_minor=cap.amount_minor, code="settlement_failed" if fails else "settlement",
        payment_id=payment.id,
    )  # fmt: skip
    if fails:
        payment.amount_captured_minor -= cap.amount_minor
        tx.emit(EventType.CAPTURE_FAILED, cap)
    else:
        payment.amount_settled_minor += cap.amount_minor
        tx.emit(EventType.CAPTURE_SUCCEEDED, cap)
    _after_capture_settled(tx, payment)
    return cap


def _after_capture_settled(tx: Tx, payment: Payment) -> None:
    pending = [
        c for c in tx.store.captures_of(merchant_id=tx.merchant_id, payment_id=payment.id)
        if c.status is CaptureState.PENDING
    ]  # fmt: skip
    payment.updated_at = tx.now
    if payment.status is not PaymentState.PROCESSING or pending:
        tx.store.update_payment(payment)
        refunds.reconcile(tx, payment)
        return
    if payment.amount_settled_minor == 0:
        release_hold(tx, payment, "authorization_released")
        payment.failure_code = "settlement_failed"
        payment.failure_message = "The money never arrived at the merchant's account"
        transition(tx, payment, PaymentTrigger.FAIL)
    else:
        transition(tx, payment, PaymentTrigger.SETTLE)
    refunds.reconcile(tx, payment)


def release_remainder(tx: Tx, payment_id: str) -> Payment:
    """The merchant gives up what is left of a partly captured authorization (Klarna's void after
    captures): the rest of the hold is voided, the captures stay, the state stays."""
    payment = get_payment(tx, payment_id)
    if payment.amount_capturable_minor == 0:
        raise Conflict(ErrorCode.NOTHING_TO_CAPTURE, f"Payment {payment.id} has nothing left to release")
    release_hold(tx, payment, "authorization_released")
    payment.updated_at = tx.now
    tx.store.update_payment(payment)
    return payment
