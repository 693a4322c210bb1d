"""Domain objects → native wire objects. The native API speaks the engine's own states, so the status
map is the identity, but it is still written out (and tested) like every dialect's."""

from __future__ import annotations

from datetime import datetime
from typing import Any, assert_never

from kasse.domain.clock import utc
from kasse.domain.ledger import Transfer
from kasse.domain.models import Capture, Event, Payment, Refund, from_snapshot, snapshot
from kasse.domain.states import PaymentState, RefundState
from kasse.domain.webhooks import WebhookEndpoint

__all__ = ["capture_out", "event_out", "payment_out", "payment_status", "refund_out", "transfer_out"]


# Size rule exception: one return per arm of a match over the states.
def payment_status(state: PaymentState) -> str:  # noqa: PLR0911
    match state:
        case PaymentState.REQUIRES_ACTION:
            return "requires_action"
        case PaymentState.AUTHORIZED:
            return "authorized"
        case PaymentState.PROCESSING:
            return "processing"
        case PaymentState.SUCCEEDED:
            return "succeeded"
        case PaymentState.FAILED:
            return "failed"
        case PaymentState.CANCELED:
            return "canceled"
        case PaymentState.EXPIRED:
            return "expired"
        case _:
            assert_never(state)


def refund_status(state: RefundState) -> str:
    match state:
        case RefundState.PENDING:
            return "pending"
        case RefundState.SUCCEEDED:
            return "succeeded"
        case RefundState.FAILED:
            return "failed"
        case RefundState.CANCELED:
            return "canceled"
        case _:
            assert_never(state)


def _ts(value: Any) -> str | None:
    return None if value is None else utc(value).isoformat().replace("+00:00", "Z")


def payment_out(p: Payment, base_url: str) -> dict[str, Any]:
    action = None
    if p.status is PaymentState.REQUIRES_ACTION:
        action = {"type": "redirect", "redirect_url": f"{base_url}/pay/{p.redirect_token}"}
    failure = {"code": p.failure_code, "message": p.failure_message} if p.failure_code else None
    return {
        "id": p.id,
        "object": "payment",
        "livemode": False,
        "amount": p.amount_minor,
        "currency": p.currency,
        "method": p.method.value,
        "country": p.country,
        "status": payment_status(p.status),
        "capture": p.capture_method.value,
        "description": p.description,
        "reference": p.reference,
        "return_url": p.return_url,
        "cancel_url": p.cancel_url,
        "customer": p.customer,
        "metadata": p.metadata,
        "amount_capturable": p.amount_capturable_minor,
        "amount_captured": p.amount_captured_minor,
        "amount_settled": p.amount_settled_minor,
        "amount_refunded": p.amount_refunded_minor,
        "next_action": action,
        "failure": failure,
        "cancellation_reason": p.cancellation_reason,
        "created_at": _ts(p.created_at),
        "updated_at": _ts(p.updated_at),
        "expires_at": _ts(p.expires_at),
        "authorized_at": _ts(p.authorized_at),
    }


def capture_out(c: Capture) -> dict[str, Any]:
    return {
        "id": c.id,
        "object": "capture",
        "payment_id": c.payment_id,
        "amount": c.amount_minor,
        "currency": c.currency,
        "status": c.status.value,
        "final": c.final,
        "sequence": c.sequence,
        "created_at": _ts(c.created_at),
        "settles_at": _ts(c.settles_at),
    }


def refund_out(r: Refund) -> dict[str, Any]:
    return {
        "id": r.id,
        "object": "refund",
        "payment_id": r.payment_id,
        "amount": r.amount_minor,
        "currency": r.currency,
        "status": refund_status(r.status),
        "reason": r.reason,
        "metadata": r.metadata,
        "failure_reason": r.failure_reason,
        "created_at": _ts(r.created_at),
        "updated_at": _ts(r.updated_at),
    }


def endpoint_out(endpoint: WebhookEndpoint | dict[str, Any], *, with_secret: bool = False) -> dict[str, Any]:
    """A webhook endpoint; the signing secret only when it is created or rotated."""
    e = endpoint if isinstance(endpoint, dict) else snapshot(endpoint)
    out = {
        "id": e["id"],
        "object": "webhook_endpoint",
        "url": e["url"],
        "enabled_events": e["enabled_events"],
        "description": e["description"],
        "status": e["status"],
        "disabled_reason": e["disabled_reason"],
        "created_at": _ts(_dt(e["created_at"])),
        "updated_at": _ts(_dt(e["updated_at"])),
    }
    if with_secret:
        out["secret"] = e["secret"]
    return out


def _dt(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def object_out(kind: str, data: dict[str, Any], base_url: str) -> dict[str, Any]:
    if kind == "webhook_endpoint":
        return endpoint_out(data)
    obj = from_snapshot(kind, data)
    if isinstance(obj, Payment):
        return payment_out(obj, base_url)
    if isinstance(obj, Capture):
        return capture_out(obj)
    return refund_out(obj)


def event_out(e: Event, base_url: str) -> dict[str, Any]:
    # A dialect's derived event (``multisafepay:…``, ``stripe:…``) already holds its object in that
    # dialect's words: shown as it is, not read back as an engine snapshot.
    derived = ":" in e.type
    return {
        "id": e.id,
        "object": "event",
        "type": e.type,
        "created_at": _ts(e.created_at),
        "data": {"object": e.data["object"] if derived else object_out(e.object_type, e.data["object"], base_url)},
    }


def transfer_out(t: Transfer) -> dict[str, Any]:
    return {
        "id": t.id,
        "object": "ledger_transfer",
        "kind": str(t.kind),
        "code": t.code,
        "currency": t.currency,
        "pending_id": t.pending_id,
        "payment_id": t.payment_id,
        "refund_id": t.refund_id,
        "created_at": _ts(t.created_at),
        "legs": [{"account": leg.account.value, "amount": leg.amount_minor} for leg in t.legs],
    }
