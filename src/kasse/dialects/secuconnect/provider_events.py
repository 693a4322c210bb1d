"""secuconnect pushes as derived events: when a unit of work changes a payment transaction's simple status
or creates a refund child of it, one event addressed to the endpoint behind its ``url_push``
(``secuconnect:order.<endpoint id>``) carries the push body. It leaves through the outbox like every event.

One push per payment transaction and unit of work: approving a Sofort payment authorizes and captures it
in one transaction, and the shop hears once that it is ``pending``. A refund child's push names the
parent transaction, ``type: added``: pretix-secuconnect re-reads the pushed transaction and picks the new
child from its ``related_transactions`` (a push naming the child itself would be taken for the parent).
A Smart Transaction aborted before the bank has no payment transaction, and no push."""

from __future__ import annotations

from kasse.dialects.secuconnect import ids
from kasse.dialects.secuconnect.data import SecuData
from kasse.dialects.secuconnect.translate import pci_visible
from kasse.domain.clock import utc
from kasse.domain.events import EventType
from kasse.domain.models import Capture, Event, Payment, Refund
from kasse.engine.unit import Tx

__all__ = ["derive"]

PREFIX = "secuconnect:"

# Changes of the simple status (pending, accepted, denied, void) and of the refunds.
CHANGED = frozenset(
    {
        EventType.PAYMENT_PROCESSING,
        EventType.PAYMENT_SUCCEEDED,
        EventType.PAYMENT_FAILED,
        EventType.PAYMENT_CANCELED,
        EventType.PAYMENT_EXPIRED,
        EventType.REFUND_SUCCEEDED,
        EventType.REFUND_FAILED,
        EventType.REFUND_CANCELED,
    }
)
ADDED = frozenset({EventType.REFUND_CREATED})


def derive(tx: Tx, event: Event, obj: Payment | Capture | Refund) -> list[Event]:
    if (event.type not in CHANGED and event.type not in ADDED) or event.payment_id is None:
        return []
    payment = obj if isinstance(obj, Payment) else tx.store.get_payment(
        merchant_id=tx.merchant_id, payment_id=event.payment_id
    )  # fmt: skip
    if payment is None or not pci_visible(payment):
        return []
    endpoint_id = SecuData.of(payment).push_endpoint_id
    if endpoint_id is None:
        return []
    kind = "added" if event.type in ADDED else "changed"
    # An earlier push of this transaction in this unit is superseded; an "added" one stays "added".
    for earlier in [e for e in tx.events if e.type.startswith(PREFIX) and e.payment_id == payment.id]:
        if earlier.data["object"]["type"] == "added":
            kind = "added"
        tx.events.remove(earlier)
    event_id = tx.new_id("event")
    push = {
        "object": "event.pushes",
        "id": event_id,
        "created": utc(tx.now).isoformat(timespec="seconds"),
        "target": "payment.transactions",
        "type": kind,
        "data": [{"object": "payment.transactions", "id": ids.pci_of_payment(payment.id)}],
    }
    notification = Event(
        id=event_id, merchant_id=tx.merchant_id, type=f"{PREFIX}order.{endpoint_id}", object_type="payment",
        object_id=payment.id, payment_id=payment.id, data={"object": push, "cause": event.type}, created_at=tx.now,
    )  # fmt: skip
    return [notification]
