"""Klarna's webhook events, stored as ``klarna:<event type>`` and sent only to Klarna subscriptions:
``payment.request.state-change.*`` published by the payment request use cases, and the payment
transaction's events derived from the engine's (the ``Dialect``'s ``derive_events``, called when the
unit of work flushes). Each event's ``data`` is the payload and the partner account it concerns.

Event names: ``payment.request.state-change.{submitted,in-progress,completed,canceled,declined,expired}``,
``payment.transaction.state-change.{authorized,completed,expired,closed}``, ``payment.transaction.captured``
and ``payment.transaction.refunded`` (docs/klarna.md says which of them Klarna's pages confirm)."""

from __future__ import annotations

from typing import Any

from kasse.dialects.klarna.data import KlarnaTransactionData
from kasse.dialects.klarna.model import PaymentRequest, account_of
from kasse.dialects.klarna.translate import request_out, transaction_out
from kasse.domain.events import EventType
from kasse.domain.models import Capture, Event, Payment, Refund
from kasse.domain.states import PaymentState
from kasse.engine import payments
from kasse.engine.unit import Tx

__all__ = ["CLOSE_TIMER", "PREFIX", "close_transaction", "derive", "publish_request"]

PREFIX = "klarna:"
CLOSE_TIMER = "klarna_transaction_close"
CLOSE_AFTER_S = 7 * 86_400  # "→ CLOSED after 7 days unless reauthorized" (KN "Manage payment transactions")


def _event(
    tx: Tx, type_: str, object_type: str, object_id: str, payload: dict[str, Any], account: str, payment_id: str | None
) -> Event:
    return Event(
        id=tx.new_id("event"),
        merchant_id=tx.merchant_id,
        type=PREFIX + type_,
        object_type=object_type,
        object_id=object_id,
        payment_id=payment_id,
        data={"object": payload, "account_id": account},
        created_at=tx.now,
    )


def publish_request(tx: Tx, request: PaymentRequest) -> None:
    """The request's state-change event, in the unit of work that changed it. Its payment request URL
    stays relative (``/klarna/journey/…``) until the event is sent."""
    payload = request_out(request, "")
    for name in ("klarna_network_session_token", "payment_token"):  # KROK reads the token at the top level
        if request.state.value == "COMPLETED":
            payload[name] = payload["state_context"][name]
    kind = "payment.request.state-change." + request.state.value.lower().replace("_", "-")
    tx.publish(_event(tx, kind, "klarna_request", request.id, payload, request.account_id, None))


def _transaction(tx: Tx, payment: Payment) -> dict[str, Any]:
    captures = tx.store.captures_of(merchant_id=tx.merchant_id, payment_id=payment.id)
    refunds = tx.store.refunds_of(merchant_id=tx.merchant_id, payment_id=payment.id)
    return transaction_out(payment, captures, refunds)


_TRANSACTION_EVENTS: dict[str, str] = {
    EventType.PAYMENT_AUTHORIZED: "payment.transaction.state-change.authorized",
    EventType.PAYMENT_CANCELED: "payment.transaction.state-change.closed",
    EventType.PAYMENT_EXPIRED: "payment.transaction.state-change.expired",
    EventType.CAPTURE_CREATED: "payment.transaction.captured",
    EventType.REFUND_CREATED: "payment.transaction.refunded",
}


def derive(tx: Tx, event: Event, obj: Payment | Capture | Refund) -> list[Event]:
    type_ = _TRANSACTION_EVENTS.get(event.type)
    if type_ is None or event.payment_id is None:
        return []
    payment = payments.get_payment(tx, event.payment_id, for_update=False)
    payload = _transaction(tx, payment)
    found = [_event(tx, type_, "payment", payment.id, payload, account_of(tx), payment.id)]
    if isinstance(obj, Capture) and payload["state"] == "COMPLETED":
        found.append(
            _event(
                tx,
                "payment.transaction.state-change.completed",
                "payment",
                payment.id,
                payload,
                account_of(tx),
                payment.id,
            )
        )
    if type_.endswith(".expired"):
        tx.schedule(CLOSE_TIMER, payment.id, after_s=CLOSE_AFTER_S)
    return found


def transaction_completed(tx: Tx, payment: Payment) -> None:
    """A void after captures: no engine event, Klarna's state is COMPLETED."""
    payload = _transaction(tx, payment)
    tx.publish(
        _event(
            tx, "payment.transaction.state-change.completed", "payment", payment.id, payload, account_of(tx), payment.id
        )
    )


def close_transaction(tx: Tx, payment_id: str) -> Payment | None:
    """Timer: seven days after its expiry an expired transaction is CLOSED."""
    payment = payments.get_payment(tx, payment_id)
    data = KlarnaTransactionData.from_dict(payment.provider_data)
    if payment.status is not PaymentState.EXPIRED or data.closed:
        return None
    payment = payments.update_details(tx, payment.id, provider_data={"closed": True})
    tx.publish(
        _event(
            tx,
            "payment.transaction.state-change.closed",
            "payment",
            payment.id,
            _transaction(tx, payment),
            account_of(tx),
            payment.id,
        )
    )
    return payment
