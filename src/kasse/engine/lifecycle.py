"""What every payment use case shares: loading a payment under lock, the one door through which its
state changes (the transition table, then the event), and releasing the authorization hold."""

from __future__ import annotations

from kasse.domain.errors import NotFound
from kasse.domain.events import EventType
from kasse.domain.ledger import Account
from kasse.domain.models import Payment
from kasse.domain.states import PaymentState, PaymentTrigger, apply_payment
from kasse.engine import postings
from kasse.engine.unit import Tx

__all__ = ["get_payment", "release_hold", "transition"]

_EVENT_FOR_STATE = {
    PaymentState.AUTHORIZED: EventType.PAYMENT_AUTHORIZED,
    PaymentState.PROCESSING: EventType.PAYMENT_PROCESSING,
    PaymentState.SUCCEEDED: EventType.PAYMENT_SUCCEEDED,
    PaymentState.FAILED: EventType.PAYMENT_FAILED,
    PaymentState.CANCELED: EventType.PAYMENT_CANCELED,
    PaymentState.EXPIRED: EventType.PAYMENT_EXPIRED,
}


def get_payment(tx: Tx, payment_id: str, *, for_update: bool = True) -> Payment:
    payment = tx.store.get_payment(merchant_id=tx.merchant_id, payment_id=payment_id, for_update=for_update)
    if payment is None:
        raise NotFound("payment", payment_id, param="id")
    tx.origins[payment.id] = payment.origin
    return payment


def transition(tx: Tx, payment: Payment, trigger: PaymentTrigger) -> None:
    before = payment.status
    payment.status = apply_payment(before, trigger)
    payment.updated_at = tx.now
    tx.store.update_payment(payment)
    if payment.status is not before:
        tx.emit(_EVENT_FOR_STATE[payment.status], payment)


def release_hold(tx: Tx, payment: Payment, code: str) -> None:
    """Void what is left of the authorization hold."""
    if payment.hold_transfer_id is None:
        return
    postings.resolve(
        tx, payment.hold_transfer_id, currency=payment.currency, source=Account.CUSTOMER,
        destination=Account.INCOMING, post_minor=0, held_minor=payment.amount_capturable_minor, code=code,
        payment_id=payment.id,
    )  # fmt: skip
    payment.hold_transfer_id = None
    payment.amount_capturable_minor = 0
