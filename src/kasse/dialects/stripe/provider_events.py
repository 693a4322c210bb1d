"""Stripe's events, derived from the engine's in the same unit of work (the Stripe ``Dialect``'s
``derive_events``, called when the unit flushes). Each is the Stripe object as the unit
leaves it, stored as ``stripe:<type>`` and sent only to Stripe webhook endpoints.

Redirect and receipt URLs are stored relative (``/pay/…``): the base URL is the server's, known when an event is
shown or sent (``absolute``)."""

from __future__ import annotations

from typing import Any

from kasse.dialects.stripe import translate as out
from kasse.dialects.stripe.loaders import charge_of, refund_of
from kasse.domain.events import EventType
from kasse.domain.models import Capture, Event, Payment, Refund
from kasse.engine.unit import Tx

__all__ = ["PREFIX", "absolute", "derive", "stripe_type"]

PREFIX = "stripe:"

_SOURCE_EVENTS = {
    EventType.PAYMENT_AUTHORIZED: "source.chargeable",
    EventType.PAYMENT_EXPIRED: "source.canceled",
}
_CHARGE_EVENTS = {
    EventType.CAPTURE_CREATED: "charge.pending",
    EventType.CAPTURE_SUCCEEDED: "charge.succeeded",
    EventType.CAPTURE_FAILED: "charge.failed",
    EventType.REFUND_CREATED: "charge.refunded",
}
_REFUND_EVENTS = {EventType.REFUND_SUCCEEDED, EventType.REFUND_FAILED, EventType.REFUND_CANCELED}


def stripe_type(event_type: str) -> str:
    return event_type.removeprefix(PREFIX)


def _source_type(event_type: str, payment: Payment) -> str | None:
    if event_type in _SOURCE_EVENTS:
        return _SOURCE_EVENTS[EventType(event_type)]
    if event_type in (EventType.PAYMENT_FAILED, EventType.PAYMENT_CANCELED):
        status = out.source_status(payment)
        return {"failed": "source.failed", "canceled": "source.canceled"}.get(status)
    return None


def derive(tx: Tx, event: Event, obj: Payment | Capture | Refund) -> list[Event]:
    return [
        Event(
            id=tx.new_id("event"), merchant_id=tx.merchant_id, type=PREFIX + type_, object_type=kind,
            object_id=str(data["id"]), payment_id=event.payment_id, data={"object": data}, created_at=tx.now,
        )
        for kind, type_, data in _translate(tx, event.type, obj)
    ]  # fmt: skip


def _translate(tx: Tx, event_type: str, obj: Payment | Capture | Refund) -> list[tuple[str, str, dict[str, Any]]]:
    store = tx.store
    if isinstance(obj, Payment):
        type_ = _source_type(event_type, obj)
        return [] if type_ is None else [("source", type_, out.source_out(obj, ""))]
    if isinstance(obj, Capture) and event_type in _CHARGE_EVENTS:
        return [("charge", _CHARGE_EVENTS[EventType(event_type)], charge_of(store, obj, ""))]
    if isinstance(obj, Refund) and event_type == EventType.REFUND_CREATED:
        # Stripe: the charge's charge.refunded, and the refund's refund.created.
        captures = store.captures_of(merchant_id=obj.merchant_id, payment_id=obj.payment_id)
        refunded = [("charge", "charge.refunded", charge_of(store, captures[0], ""))] if captures else []
        return [*refunded, ("refund", "refund.created", refund_of(store, obj))]
    if isinstance(obj, Refund) and event_type in _REFUND_EVENTS:
        # Stripe: a refund's later state is charge.refund.updated and refund.updated; a failure also
        # refund.failed.
        refund = refund_of(store, obj)
        failed = [("refund", "refund.failed", refund)] if event_type == EventType.REFUND_FAILED else []
        return [("refund", "charge.refund.updated", refund), ("refund", "refund.updated", refund), *failed]
    return []


def absolute(data: Any, base_url: str) -> Any:
    """The stored object with its redirect URLs made absolute."""
    if isinstance(data, dict):
        fixed = {k: absolute(v, base_url) for k, v in data.items()}
        if data.get("object") == "source" and isinstance(fixed.get("redirect"), dict):
            url = fixed["redirect"].get("url")
            if isinstance(url, str) and url.startswith("/"):
                fixed["redirect"] = {**fixed["redirect"], "url": base_url + url}
        receipt = fixed.get("receipt_url")
        if data.get("object") == "charge" and isinstance(receipt, str) and receipt.startswith("/"):
            fixed["receipt_url"] = base_url + receipt
        return fixed
    if isinstance(data, list):
        return [absolute(v, base_url) for v in data]
    return data
