"""Pure mapping between the engine and MultiSafepay's words: order and transaction statuses (Sofort
seed table), the order object of ``GET json/orders/{order_id}`` and its refunds (parts in shapes.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, assert_never

from kasse.dialects.multisafepay import cart
from kasse.dialects.multisafepay.data import MspOrderData
from kasse.dialects.multisafepay.shapes import customer_out, masked, system_cost, time_out
from kasse.domain.models import Capture, Payment, Refund
from kasse.domain.states import CaptureState, PaymentState, RefundState

__all__ = [
    "GATEWAY",
    "bank_page_url",
    "order_out",
    "order_status",
    "payment_page_url",
    "refund_status",
    "transaction_id",
]

GATEWAY = "DIRECTBANK"  # MultiSafepay's gateway code of Sofort
# What the hosted bank page prefills (TEST_DATA of the hosted pages): the account a sandbox payment
# is paid from, shown in payment_details once the customer has approved.
_TEST_ACCOUNT = {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "holder": "Test Kunde"}


def payment_status(state: PaymentState) -> str:
    """The seed's table: Initialized, Uncleared, Completed, Void, Expired (and declined by the bank)."""
    if state is PaymentState.REQUIRES_ACTION:
        return "initialized"
    if state is PaymentState.AUTHORIZED or state is PaymentState.PROCESSING:
        return "uncleared"  # authorized is never seen: Sofort is captured with the authorization
    if state is PaymentState.SUCCEEDED:
        return "completed"
    if state is PaymentState.FAILED:
        return "declined"
    if state is PaymentState.CANCELED:
        return "void"
    if state is PaymentState.EXPIRED:
        return "expired"
    assert_never(state)


def refund_status(state: RefundState) -> str:
    """Refund initiated: reserved; refund complete: completed (seed)."""
    if state is RefundState.PENDING:
        return "reserved"
    if state is RefundState.SUCCEEDED:
        return "completed"
    if state is RefundState.FAILED:
        return "declined"
    if state is RefundState.CANCELED:
        return "void"
    assert_never(state)


def order_status(payment: Payment) -> str:
    """A completed order becomes partial_refunded or refunded as refunds are made (reserved or done)."""
    status = payment_status(payment.status)
    if status == "completed" and payment.amount_refunded_minor > 0:
        return "refunded" if payment.amount_refunded_minor >= payment.amount_minor else "partial_refunded"
    return status


def transaction_id(object_id: str) -> int:
    """MultiSafepay's transaction ids are integers (the PSP id); Kasse derives one from its own id."""
    return int(hashlib.sha256(object_id.encode()).hexdigest()[:12], 16) % 9_000_000_000 + 1_000_000_000


def payment_page_url(payment: Payment, base_url: str) -> str:
    return f"{base_url}/multisafepay/pay/{payment.redirect_token}"


def bank_page_url(payment: Payment, base_url: str) -> str:
    return f"{base_url}/pay/{payment.redirect_token}"


def _account(payment: Payment) -> dict[str, Any]:
    """The payer's account: as given with a direct order, else the hosted bank page's test account once
    paid; the IBAN masked as MultiSafepay masks it."""
    given = MspOrderData.of(payment).gateway_info or {}
    paid = payment.status not in (PaymentState.REQUIRES_ACTION, PaymentState.CANCELED, PaymentState.EXPIRED)
    iban = given.get("account_holder_iban") or given.get("account_id") or (_TEST_ACCOUNT["iban"] if paid else None)
    return {
        "account_holder_name": given.get("account_holder_name") or (_TEST_ACCOUNT["holder"] if paid else None),
        "account_id": masked(iban),
        "account_iban": masked(iban),
        "account_bic": given.get("account_holder_bic") or (_TEST_ACCOUNT["bic"] if paid else None),
    }


def _refund_out(payment: Payment, refund: Refund) -> dict[str, Any]:
    """A refund in ``related_transactions`` (``RelatedTransactions.yaml``)."""
    return {
        "amount": refund.amount_minor,
        "costs": [],
        "created": time_out(refund.created_at),
        "currency": refund.currency,
        "description": refund.reason or f"Refund {payment.reference}",
        "modified": time_out(refund.updated_at),
        "order_id": payment.reference,
        "refund_order_id": None,
        "status": refund_status(refund.status),
        "transaction_id": transaction_id(refund.id),
        "type": "refund",
    }


def _completed_at(payment: Payment, captures: Sequence[Capture]) -> datetime | None:
    """When the money arrived (the capture settled): fixed from then on, whatever happens later."""
    if payment.status is not PaymentState.SUCCEEDED:
        return None
    settled = [c.updated_at for c in captures if c.status is CaptureState.SUCCEEDED]
    return min(settled) if settled else payment.updated_at


def _modified_at(payment: Payment, refunds: list[Refund]) -> datetime:
    """The last change of the order or of one of its refunds (a refund completing changes the order)."""
    return max([payment.updated_at, *(r.updated_at for r in refunds)])


def _financial_status(payment: Payment, status: str) -> str:
    """A merchant's cancel (``PATCH status=cancelled``) is ``cancelled`` money-wise, the order ``void``."""
    if payment.status is PaymentState.CANCELED and payment.cancellation_reason == "requested_by_merchant":
        return "cancelled"
    return status


def _reason(payment: Payment, data: MspOrderData) -> str:
    if data.reason:
        return data.reason
    paid = payment.status in (PaymentState.PROCESSING, PaymentState.SUCCEEDED)
    return "SUCCESS" if paid else ""


def _costs(payment: Payment, tid: int, completed: datetime | None) -> list[dict[str, Any]]:
    return [] if completed is None else [system_cost(tid, payment.currency, completed)]


def _cart(data: MspOrderData) -> dict[str, Any]:
    """The cart, its tax tables and adjustment as sent; the adjustment computed from the cart if not sent."""
    out: dict[str, Any] = {}
    if data.shopping_cart is not None:
        out["shopping_cart"] = data.shopping_cart
        out["order_adjustment"] = data.order_adjustment or cart.order_adjustment(
            data.shopping_cart, data.checkout_options
        )
    elif data.order_adjustment is not None:
        out["order_adjustment"] = data.order_adjustment
    if data.checkout_options is not None:
        out["checkout_options"] = data.checkout_options
    return out


def order_out(
    payment: Payment, refunds: list[Refund], base_url: str | None = None, *, captures: Sequence[Capture] = ()
) -> dict[str, Any]:
    """The order object (MultiSafepay ``getOrder.json``; the SDK's ``Order`` model). ``base_url`` None:
    without the page URLs (notifications are rendered away from any request)."""
    status = order_status(payment)
    data = MspOrderData.of(payment)
    tid = transaction_id(payment.id)
    account = _account(payment)
    gateway = data.gateway or None
    completed = _completed_at(payment, captures)
    order: dict[str, Any] = {
        "transaction_id": tid,
        "order_id": payment.reference,
        "created": time_out(payment.created_at),
        "modified": time_out(_modified_at(payment, refunds)),
        "completed": time_out(completed),
        "currency": payment.currency,
        "amount": payment.amount_minor,
        "amount_refunded": payment.amount_refunded_minor,
        "order_total": payment.amount_minor / 100,
        "description": payment.description,
        "items": None,
        "status": status,
        "financial_status": _financial_status(payment, status),
        "reason": _reason(payment, data),
        "reason_code": None,
        "fastcheckout": "NO",
        "var1": data.var1,
        "var2": data.var2,
        "var3": data.var3,
        "custom_info": data.custom_info or {"custom_1": None, "custom_2": None, "custom_3": None},
        "customer": customer_out(payment.customer),
        "payment_details": {
            **account,
            "type": gateway,
            "external_transaction_id": str(tid),
            "issuer_id": None,
            "recurring_flow": None,
            "recurring_id": None,
            "recurring_model": None,
            "response_code": None,
        },
        "payment_methods": [
            {
                "type": gateway,
                "amount": payment.amount_minor,
                "currency": payment.currency,
                "status": payment_status(payment.status),
                "description": payment.description,
                "account_id": account["account_id"],
                "external_transaction_id": str(tid),
                "payment_description": "Sofort" if gateway else None,
            }
        ],
        "costs": _costs(payment, tid, completed),
        "related_transactions": [_refund_out(payment, r) for r in refunds] or None,
        **_cart(data),
    }
    if base_url is not None and payment.status is PaymentState.REQUIRES_ACTION:
        direct = data.type == "direct"
        order["payment_url"] = bank_page_url(payment, base_url) if direct else payment_page_url(payment, base_url)
        order["session_id"] = payment.redirect_token
    if payment.cancel_url:
        order["cancel_url"] = payment.cancel_url
    return order
