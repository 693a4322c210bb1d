"""Kasse's objects in Klarna's words: payment requests, payment transactions with their captures and
refunds, and the transaction state as a total map over the engine's payment states."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, assert_never

from kasse.dialects.klarna.data import KlarnaTransactionData
from kasse.dialects.klarna.model import PaymentRequest
from kasse.dialects.klarna.rules import RULES
from kasse.dialects.klarna.states import RequestState
from kasse.domain.clock import utc
from kasse.domain.models import Capture, Payment, Refund
from kasse.domain.states import PaymentState, RefundState

__all__ = [
    "PAGE_PATH",
    "capture_id",
    "capture_out",
    "refund_out",
    "refund_state",
    "request_out",
    "transaction_out",
    "transaction_state",
    "ts",
]

PAGE_PATH = "/klarna/journey/"  # the approval page: {base}/klarna/journey/{page token}


def ts(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as Klarna writes its timestamps."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc(moment).microsecond // 1000:03d}Z"


def _state_context(request: PaymentRequest, base_url: str) -> dict[str, Any]:
    if request.state in (RequestState.SUBMITTED, RequestState.IN_PROGRESS):
        interaction = {
            "method": "HANDOVER",
            "payment_request_id": request.krn,
            "payment_request_url": base_url + PAGE_PATH + request.page_token,
        }
        return {"customer_interaction": interaction}
    if request.state is RequestState.COMPLETED:
        customer: dict[str, Any] = {"customer_profile": dict(request.customer)}
        if request.customer_token:
            customer["customer_token"] = request.customer_token
        return {
            "klarna_network_session_token": request.session_token,
            "payment_token": request.payment_token,
            "klarna_customer": customer,
        }
    return {}


def request_out(request: PaymentRequest, base_url: str) -> dict[str, Any]:
    """The v2 payment request; the v1 names a v1 client reads (``payment_amount``, ``state_expires_at``)
    beside them."""
    body = request.body
    out: dict[str, Any] = {
        "payment_request_id": request.krn,
        "payment_request_reference": request.reference,
        "amount": request.amount_minor,
        "currency": request.currency,
        "state": request.state.value,
        "state_context": _state_context(request, base_url),
        "expires_at": ts(request.expires_at),
        "created_at": ts(request.created_at),
        "updated_at": ts(request.updated_at),
        "payment_amount": request.amount_minor,
        "state_expires_at": ts(request.expires_at),
    }
    if request.previous_state is not None:
        out["previous_state"] = request.previous_state.value
    if request.state_reason:
        out["state_reason"] = request.state_reason
    for name in (
        "payment_option_id",
        "supplementary_purchase_data",
        "customer_interaction_config",
        "request_customer_token",
        "merchant_reference",
        "payment_reference",
    ):
        if body.get(name) is not None:
            out[name] = body[name]
    return out


def transaction_state(payment: Payment, data: KlarnaTransactionData) -> str:
    """Klarna's transaction states (KN "Manage payment transactions"): AUTHORIZED while an authorized
    amount remains, COMPLETED when none does after captures, EXPIRED and then CLOSED after the grace."""
    match payment.status:
        case PaymentState.REQUIRES_ACTION | PaymentState.AUTHORIZED:
            return "AUTHORIZED"  # (a Klarna transaction is created authorized, in one unit of work)
        case PaymentState.PROCESSING | PaymentState.SUCCEEDED:
            return "AUTHORIZED" if payment.amount_capturable_minor else "COMPLETED"
        case PaymentState.EXPIRED:
            return "CLOSED" if data.closed else "EXPIRED"
        case PaymentState.CANCELED | PaymentState.FAILED:
            return "CLOSED"
        case _:
            assert_never(payment.status)


def authorization_expires_at(payment: Payment) -> datetime:
    """Until when the authorization may be captured (the engine's unused-authorization window)."""
    return (payment.authorized_at or payment.created_at) + timedelta(seconds=RULES.unused_authorization_s)


def refund_state(refund: Refund) -> str:
    """Klarna publishes no refund states; Kasse shows where the money is (docs/klarna.md)."""
    match refund.status:
        case RefundState.PENDING:
            return "PENDING"
        case RefundState.SUCCEEDED:
            return "COMPLETED"
        case RefundState.FAILED:
            return "FAILED"
        case RefundState.CANCELED:
            return "CANCELED"
        case _:
            assert_never(refund.status)


def capture_id(data: KlarnaTransactionData, capture: Capture) -> str:
    return f"{data.transaction_id}:capture:{capture.sequence}"


def capture_out(data: KlarnaTransactionData, capture: Capture) -> dict[str, Any]:
    return {
        "payment_capture_id": capture_id(data, capture),
        "payment_capture_reference": (data.capture_references or {}).get(str(capture.sequence)),
        "amount": capture.amount_minor,
        "currency": capture.currency,
        "created_at": ts(capture.created_at),
    }


def refund_out(data: KlarnaTransactionData, refund: Refund, number: int) -> dict[str, Any]:
    return {
        "payment_refund_id": f"{data.transaction_id}:refund:{number}",
        "payment_refund_reference": refund.metadata.get("reference"),
        "payment_capture_id": refund.metadata.get("capture_id"),
        "state": refund_state(refund),
        "amount": refund.amount_minor,
        "currency": refund.currency,
        "created_at": ts(refund.created_at),
    }


def transaction_out(payment: Payment, captures: list[Capture], refunds: list[Refund]) -> dict[str, Any]:
    data = KlarnaTransactionData.from_dict(payment.provider_data)
    refunded = [r for r in refunds if r.status.value != "canceled"]
    return {
        "payment_transaction_id": data.transaction_id,
        "payment_transaction_reference": data.reference,
        "state": transaction_state(payment, data),
        "amount": payment.amount_minor,
        "currency": payment.currency,
        "authorized_amount": payment.amount_capturable_minor,
        "captured_amount": payment.amount_captured_minor,
        "refunded_amount": sum(r.amount_minor for r in refunded),
        "expires_at": ts(authorization_expires_at(payment)),
        "created_at": ts(payment.created_at),
        "updated_at": ts(payment.updated_at),
        "payment_funding": {"type": "KLARNA"},
        "payment_pricing": {"currency": payment.currency, "fee_amount": 0},
        "payment_captures": [capture_out(data, c) for c in sorted(captures, key=lambda c: c.sequence)],
        "payment_refunds": [refund_out(data, r, n) for n, r in enumerate(sorted(refunds, key=lambda r: r.id), 1)],
    }
