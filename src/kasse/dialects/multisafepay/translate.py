"""Pure mapping between the engine and MultiSafepay's words: order and transaction statuses (Sofort
seed table), the order object of ``GET json/orders/{order_id}`` and its refunds."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, assert_never

from kasse.dialects.multisafepay.data import MspOrderData
from kasse.domain.clock import utc
from kasse.domain.models import Payment, Refund
from kasse.domain.states import PaymentState, RefundState

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


def _time(value: datetime | None) -> str | None:
    return None if value is None else utc(value).strftime("%Y-%m-%dT%H:%M:%S")


def payment_page_url(payment: Payment, base_url: str) -> str:
    return f"{base_url}/multisafepay/pay/{payment.redirect_token}"


def bank_page_url(payment: Payment, base_url: str) -> str:
    return f"{base_url}/pay/{payment.redirect_token}"


def _account(payment: Payment) -> dict[str, Any]:
    given = MspOrderData.of(payment).gateway_info or {}
    paid = payment.status not in (PaymentState.REQUIRES_ACTION, PaymentState.CANCELED, PaymentState.EXPIRED)
    iban = given.get("account_holder_iban") or given.get("account_id") or (_TEST_ACCOUNT["iban"] if paid else None)
    return {
        "account_holder_name": given.get("account_holder_name") or (_TEST_ACCOUNT["holder"] if paid else None),
        "account_id": iban,
        "account_iban": iban,
        "account_bic": given.get("account_holder_bic") or (_TEST_ACCOUNT["bic"] if paid else None),
    }


def _refund_out(payment: Payment, refund: Refund) -> dict[str, Any]:
    status = refund_status(refund.status)
    return {
        "transaction_id": transaction_id(refund.id),
        "order_id": payment.reference,
        "type": "refund",
        "payment_method": GATEWAY,
        "amount": refund.amount_minor,
        "currency": refund.currency,
        "description": refund.reason or f"Refund {payment.reference}",
        "status": status,
        "financial_status": status,
        "created": _time(refund.created_at),
        "modified": _time(refund.updated_at),
    }


def order_out(payment: Payment, refunds: list[Refund], base_url: str | None = None) -> dict[str, Any]:
    """The order object (MultiSafepay ``getOrder.json``; the SDK's ``Order`` model). ``base_url`` None:
    without the page URLs (notifications are rendered away from any request)."""
    status = order_status(payment)
    data = MspOrderData.of(payment)
    tid = transaction_id(payment.id)
    account = _account(payment)
    order: dict[str, Any] = {
        "transaction_id": tid,
        "order_id": payment.reference,
        "created": _time(payment.created_at),
        "modified": _time(payment.updated_at),
        "completed": _time(payment.updated_at) if payment.status is PaymentState.SUCCEEDED else None,
        "currency": payment.currency,
        "amount": payment.amount_minor,
        "amount_refunded": payment.amount_refunded_minor,
        "order_total": payment.amount_minor / 100,
        "description": payment.description,
        "items": None,
        "status": status,
        "financial_status": status,
        "reason": "",
        "reason_code": "",
        "fastcheckout": "NO",
        "var1": data.var1,
        "var2": data.var2,
        "var3": data.var3,
        "custom_info": data.custom_info or {"custom_1": None, "custom_2": None, "custom_3": None},
        "customer": dict(payment.customer),
        "payment_details": {
            **account,
            "type": GATEWAY,
            "external_transaction_id": str(tid),
            "issuer_id": None,
            "recurring_flow": None,
            "recurring_id": None,
            "recurring_model": None,
        },
        "payment_methods": [
            {
                "type": GATEWAY,
                "amount": payment.amount_minor,
                "currency": payment.currency,
                "status": payment_status(payment.status),
                "description": payment.description,
                "account_id": account["account_id"],
                "external_transaction_id": str(tid),
                "payment_description": "Sofort",
            }
        ],
        "costs": [],
        "related_transactions": [_refund_out(payment, r) for r in refunds] or None,
    }
    if base_url is not None and payment.status is PaymentState.REQUIRES_ACTION:
        direct = data.type == "direct"
        order["payment_url"] = bank_page_url(payment, base_url) if direct else payment_page_url(payment, base_url)
        order["session_id"] = payment.redirect_token
    if payment.cancel_url:
        order["cancel_url"] = payment.cancel_url
    return order
