"""Refund use cases. A refund on a payment whose money is still in transit waits (deferred) and is
performed when the money has arrived, or canceled if it never does. Refunded never exceeds captured."""

from __future__ import annotations

from datetime import timedelta

from kasse.domain.errors import Conflict, ErrorCode, InvalidRequest, NotFound
from kasse.domain.events import EventType
from kasse.domain.ledger import Account
from kasse.domain.models import Payment, Refund, TimerKind
from kasse.domain.money import require_minor
from kasse.domain.states import PaymentState, RefundState, RefundTrigger, apply_refund
from kasse.engine import postings
from kasse.engine.lifecycle import get_payment
from kasse.engine.unit import Tx

__all__ = ["create_refund", "reconcile", "settle_refund"]

_REFUNDABLE = (PaymentState.PROCESSING, PaymentState.SUCCEEDED)
_EVENT = {
    RefundState.SUCCEEDED: EventType.REFUND_SUCCEEDED,
    RefundState.FAILED: EventType.REFUND_FAILED,
    RefundState.CANCELED: EventType.REFUND_CANCELED,
}


def create_refund(
    tx: Tx,
    payment_id: str,
    *,
    amount_minor: int | None = None,
    reason: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Refund:
    payment = get_payment(tx, payment_id)
    if payment.status not in _REFUNDABLE:
        raise Conflict(
            ErrorCode.PAYMENT_NOT_REFUNDABLE,
            f"Payment {payment.id} is {payment.status.value}; only processing or succeeded payments can be refunded",
        )
    window_s = tx.rules_of(payment.origin).refund_window_s
    if window_s is not None and payment.authorized_at and tx.now > payment.authorized_at + timedelta(seconds=window_s):
        raise Conflict(ErrorCode.REFUND_WINDOW_EXPIRED, f"Payment {payment.id} is too old to be refunded")
    refundable = payment.amount_refundable_minor
    amount = refundable if amount_minor is None else require_minor(amount_minor)
    if refundable <= 0:
        raise Conflict(ErrorCode.ALREADY_REFUNDED, f"Payment {payment.id} has already been refunded in full")
    if not 0 < amount <= refundable:
        raise InvalidRequest(
            ErrorCode.AMOUNT_TOO_LARGE,
            f"amount must be between 1 and {refundable} (what is left to refund)",
            param="amount",
        )
    refund = Refund(
        id=tx.new_id("refund"), merchant_id=tx.merchant_id, payment_id=payment.id, amount_minor=amount,
        currency=payment.currency, status=RefundState.PENDING, created_at=tx.now, updated_at=tx.now,
        reason=reason, metadata=dict(metadata or {}), deferred=True,
    )  # fmt: skip
    tx.store.insert_refund(refund)
    payment.amount_refunded_minor += amount
    payment.updated_at = tx.now
    tx.store.update_payment(payment)
    tx.emit(EventType.REFUND_CREATED, refund)
    reconcile(tx, payment)
    return tx.store.get_refund(merchant_id=tx.merchant_id, refund_id=refund.id) or refund


def _finish(tx: Tx, refund: Refund, trigger: RefundTrigger, *, failure: str | None = None) -> None:
    refund.status = apply_refund(refund.status, trigger)
    refund.updated_at = tx.now
    refund.failure_reason = failure
    tx.store.update_refund(refund)
    tx.emit(_EVENT[refund.status], refund)


def _perform(tx: Tx, payment: Payment, refund: Refund) -> None:
    """Money leaves the merchant's available balance for the customer's bank."""
    delay_s = tx.rules_of(payment.origin).refund_delay_s
    refund.deferred = False
    if delay_s == 0:
        postings.posted(
            tx, currency=refund.currency, source=Account.AVAILABLE, destination=Account.CUSTOMER,
            amount_minor=refund.amount_minor, code="refund", payment_id=payment.id, refund_id=refund.id,
        )  # fmt: skip
        _finish(tx, refund, RefundTrigger.SUCCEED)
        return
    held = postings.hold(
        tx, currency=refund.currency, source=Account.AVAILABLE, destination=Account.CUSTOMER,
        amount_minor=refund.amount_minor, code="refund", payment_id=payment.id, refund_id=refund.id,
    )  # fmt: skip
    refund.hold_transfer_id = held.id
    refund.updated_at = tx.now
    tx.store.update_refund(refund)
    tx.schedule(TimerKind.REFUND_SETTLEMENT, refund.id, after_s=delay_s)


def _cancel(tx: Tx, payment: Payment, refund: Refund, why: str) -> None:
    payment.amount_refunded_minor -= refund.amount_minor
    _finish(tx, refund, RefundTrigger.CANCEL, failure=why)


def reconcile(tx: Tx, payment: Payment) -> None:
    """Bring the deferred refunds of a payment in line with where its money is."""
    waiting = [
        r for r in tx.store.refunds_of(merchant_id=tx.merchant_id, payment_id=payment.id)
        if r.status is RefundState.PENDING and r.deferred
    ]  # fmt: skip
    if not waiting:
        return
    before = payment.amount_refunded_minor
    if payment.status is PaymentState.FAILED:
        for refund in waiting:
            _cancel(tx, payment, refund, "payment_failed")
        waiting = []
    # A failed capture can leave less captured than was asked back: cancel the newest first.
    while waiting and payment.amount_refunded_minor > payment.amount_captured_minor:
        _cancel(tx, payment, waiting.pop(), "capture_failed")
    if payment.status is PaymentState.SUCCEEDED:
        performed = sum(
            r.amount_minor for r in tx.store.refunds_of(merchant_id=tx.merchant_id, payment_id=payment.id)
            if r.status in (RefundState.PENDING, RefundState.SUCCEEDED) and not r.deferred
        )  # fmt: skip
        for refund in waiting:
            if performed + refund.amount_minor > payment.amount_settled_minor:
                break
            _perform(tx, payment, refund)
            performed += refund.amount_minor
    if payment.amount_refunded_minor != before:
        payment.updated_at = tx.now
        tx.store.update_payment(payment)


def settle_refund(tx: Tx, refund_id: str) -> Refund | None:
    refund = tx.store.get_refund(merchant_id=tx.merchant_id, refund_id=refund_id)
    if refund is None or refund.status is not RefundState.PENDING or refund.hold_transfer_id is None:
        return None
    postings.resolve(
        tx, refund.hold_transfer_id, currency=refund.currency, source=Account.AVAILABLE,
        destination=Account.CUSTOMER, post_minor=refund.amount_minor, held_minor=refund.amount_minor,
        code="refund", payment_id=refund.payment_id, refund_id=refund.id,
    )  # fmt: skip
    _finish(tx, refund, RefundTrigger.SUCCEED)
    return refund


def get_refund(tx: Tx, refund_id: str) -> Refund:
    refund = tx.store.get_refund(merchant_id=tx.merchant_id, refund_id=refund_id)
    if refund is None:
        raise NotFound("refund", refund_id, param="id")
    return refund
