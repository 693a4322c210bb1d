"""MultiSafepay notifications as derived events: when a unit of work changes an order that names a
``notification_url``, one event addressed to that URL's endpoint (``multisafepay:order.<endpoint id>``)
carries the order as it then is. It leaves through the outbox like every event; only that endpoint
receives it (``kasse.engine.webhooks.notification_endpoint``).

One notification per order and unit of work: approving a payment under 100 EUR authorizes, captures
and completes it in one transaction, and MultiSafepay sends one ``completed`` notification, not three.
"""

from __future__ import annotations

from kasse.dialects.multisafepay.data import MspOrderData
from kasse.dialects.multisafepay.translate import order_out
from kasse.domain.events import EventType
from kasse.domain.models import Capture, Event, Payment, Refund
from kasse.engine.unit import Tx

__all__ = ["NOTIFYING", "derive"]

PREFIX = "multisafepay:"

# The changes MultiSafepay notifies (status changes of the order and of its refunds).
NOTIFYING = frozenset(
    {
        EventType.PAYMENT_PROCESSING,
        EventType.PAYMENT_SUCCEEDED,
        EventType.PAYMENT_FAILED,
        EventType.PAYMENT_CANCELED,
        EventType.PAYMENT_EXPIRED,
        EventType.REFUND_CREATED,
        EventType.REFUND_SUCCEEDED,
        EventType.REFUND_FAILED,
        EventType.REFUND_CANCELED,
    }
)


def derive(tx: Tx, event: Event, obj: Payment | Capture | Refund) -> list[Event]:
    if event.type not in NOTIFYING or event.payment_id is None:
        return []
    payment = obj if isinstance(obj, Payment) else tx.store.get_payment(
        merchant_id=tx.merchant_id, payment_id=event.payment_id
    )  # fmt: skip
    if payment is None:
        return []
    order = MspOrderData.of(payment)
    endpoint_id = order.notify_endpoint_id
    if endpoint_id is None:
        return []
    # An earlier notification of this order in this unit of work is superseded by this one.
    tx.events[:] = [e for e in tx.events if not (e.type.startswith(PREFIX) and e.payment_id == payment.id)]
    refunds = tx.store.refunds_of(merchant_id=tx.merchant_id, payment_id=payment.id)
    captures = tx.store.captures_of(merchant_id=tx.merchant_id, payment_id=payment.id)
    data = {
        "object": order_out(payment, refunds, captures=captures),
        "notification_method": order.notification_method,
        "cause": event.type,
    }
    notification = Event(
        id=tx.new_id("event"), merchant_id=tx.merchant_id, type=f"{PREFIX}order.{endpoint_id}",
        object_type="payment", object_id=payment.id, payment_id=payment.id, data=data, created_at=tx.now,
    )  # fmt: skip
    return [notification]
