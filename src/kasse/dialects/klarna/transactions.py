"""Payment transactions: engine payments with Klarna's ids, read, captured (partly, several times, at most
200), refunded by capture or by transaction (at most 200, never above what was captured) and voided, each
a use case run by the engine in one unit of work so the ledger and the events stay right."""

from __future__ import annotations

from kasse.dialects.klarna import provider_events
from kasse.dialects.klarna.data import KlarnaTransactionData
from kasse.dialects.klarna.errors import FORBIDDEN, NOT_FOUND, KlarnaError
from kasse.dialects.klarna.model import DIALECT
from kasse.dialects.klarna.schemas import CaptureIn, RefundIn
from kasse.dialects.klarna.translate import capture_id, transaction_state
from kasse.domain.models import Capture, Payment, Refund
from kasse.domain.states import RefundState
from kasse.engine import captures, payments, refunds
from kasse.engine.unit import Tx

__all__ = ["MAX_OPERATIONS", "capture", "find", "refund", "void"]

MAX_OPERATIONS = 200  # "at most 200 captures … 200 refunds" per transaction; more is 403 (KN capture, refund pages)


def find(tx: Tx, transaction_id: str, *, for_update: bool = True) -> Payment:
    found = tx.store.find_external_id(
        merchant_id=tx.merchant_id, dialect=DIALECT, kind="transaction", external_id=transaction_id
    )
    if found is None:
        raise KlarnaError(NOT_FOUND, f"Payment transaction not found: {transaction_id}")
    return payments.get_payment(tx, found.object_id, for_update=for_update)


def _state(payment: Payment) -> str:
    return transaction_state(payment, KlarnaTransactionData.from_dict(payment.provider_data))


def capture(tx: Tx, transaction_id: str, body: CaptureIn) -> tuple[Payment, Capture]:
    payment = find(tx, transaction_id)
    if _state(payment) != "AUTHORIZED":
        raise KlarnaError(FORBIDDEN, f"The payment transaction is {_state(payment)}; only AUTHORIZED can be captured")
    if len(tx.store.captures_of(merchant_id=tx.merchant_id, payment_id=payment.id)) >= MAX_OPERATIONS:
        raise KlarnaError(FORBIDDEN, f"A payment transaction takes at most {MAX_OPERATIONS} captures")
    if body.amount > payment.amount_capturable_minor:
        raise KlarnaError(
            FORBIDDEN, f"The capture amount exceeds the remaining authorized amount {payment.amount_capturable_minor}"
        )
    made = captures.capture(tx, payment.id, amount_minor=body.amount, final=False)
    if body.payment_capture_reference:
        data = KlarnaTransactionData.from_dict(payment.provider_data)
        new = data.with_capture_reference(made.sequence, body.payment_capture_reference).as_dict()
        payments.update_details(tx, payment.id, provider_data=new)
    return find(tx, transaction_id), made


def _refunded_from(tx: Tx, payment: Payment, cid: str) -> int:
    return sum(
        r.amount_minor
        for r in tx.store.refunds_of(merchant_id=tx.merchant_id, payment_id=payment.id)
        if r.metadata.get("capture_id") == cid and r.status is not RefundState.CANCELED
    )


def refund(tx: Tx, transaction_id: str, body: RefundIn, capture_ref: str | None = None) -> tuple[Payment, Refund]:
    payment = find(tx, transaction_id)
    if _state(payment) == "CLOSED":
        raise KlarnaError(FORBIDDEN, "The payment transaction is CLOSED; nothing can be refunded")
    if len(tx.store.refunds_of(merchant_id=tx.merchant_id, payment_id=payment.id)) >= MAX_OPERATIONS:
        raise KlarnaError(FORBIDDEN, f"A payment transaction takes at most {MAX_OPERATIONS} refunds")
    metadata = {"reference": body.payment_refund_reference} if body.payment_refund_reference else {}
    if capture_ref is not None:
        data = KlarnaTransactionData.from_dict(payment.provider_data)
        made = tx.store.captures_of(merchant_id=tx.merchant_id, payment_id=payment.id)
        target = next((c for c in made if capture_id(data, c) == capture_ref), None)
        if target is None:
            raise KlarnaError(NOT_FOUND, f"Payment capture not found: {capture_ref}")
        left = target.amount_minor - _refunded_from(tx, payment, capture_ref)
        if body.amount > left:
            raise KlarnaError(FORBIDDEN, f"The refund amount exceeds what is left of the capture ({left})")
        metadata["capture_id"] = capture_ref
    if body.amount > payment.amount_refundable_minor:
        raise KlarnaError(
            FORBIDDEN,
            f"The refund amount exceeds the captured amount not yet refunded ({payment.amount_refundable_minor})",
        )
    made_refund = refunds.create_refund(tx, payment.id, amount_minor=body.amount, metadata=metadata)
    return find(tx, transaction_id), made_refund


def void(tx: Tx, transaction_id: str) -> Payment:
    """Release the remaining authorization: without captures the transaction is CLOSED, after some it
    is COMPLETED (KD "Void a payment transaction")."""
    payment = find(tx, transaction_id)
    if _state(payment) != "AUTHORIZED":
        raise KlarnaError(FORBIDDEN, f"The payment transaction is {_state(payment)}; only AUTHORIZED can be voided")
    if payment.amount_captured_minor == 0:
        payments.cancel(tx, payment.id, reason="requested_by_merchant")
    else:
        provider_events.transaction_completed(tx, captures.release_remainder(tx, payment.id))
    return find(tx, transaction_id)
