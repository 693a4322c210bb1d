"""Kasse's objects in Stripe's words, and Stripe's ids in Kasse's.

Ids map losslessly by prefix: a Source is a payment (``src_X`` ↔ ``pay_X``), a Charge its capture
(``ch_X`` ↔ ``cap_X``), a Refund a refund (``re_X`` ↔ ``rfd_X``), a balance transaction a ledger transfer
(``txn_X`` ↔ ``tr_X``); events (``evt_``) and webhook endpoints (``we_``) keep their ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, assert_never

from kasse.dialects.stripe.data import StripeChargeData, StripeSourceData
from kasse.domain.clock import utc
from kasse.domain.ledger import Transfer
from kasse.domain.models import Capture, Payment, Refund
from kasse.domain.states import CaptureState, PaymentState, RefundState

__all__ = [
    "charge_out",
    "kasse_id",
    "refund_out",
    "source_out",
    "source_status",
    "stripe_id",
]

_TO_STRIPE = {"pay": "src", "cap": "ch", "rfd": "re", "tr": "txn"}
_TO_KASSE = {v: k for k, v in _TO_STRIPE.items()}
USER_ABORT = "requested_by_customer"  # the hosted page's cancel button
# The account the sandbox bank page prefills (TEST_DATA of the hosted pages): Commerzbank's example.
_IBAN, _BIC = "DE89370400440532013000", "COBADEFFXXX"


def stripe_id(kasse_id: str) -> str:
    prefix, _, body = kasse_id.partition("_")
    return f"{_TO_STRIPE.get(prefix, prefix)}_{body}"


def kasse_id(stripe_id: str, expected: str) -> str | None:
    """The Kasse id behind a Stripe id of the ``expected`` prefix, or None if it is not one."""
    prefix, sep, body = stripe_id.partition("_")
    if prefix != expected or not sep or not body or len(body) > 40:
        return None
    return f"{_TO_KASSE[prefix]}_{body}"


def ts(value: datetime | None) -> int | None:
    return None if value is None else int(utc(value).timestamp())


def source_status(p: Payment) -> str:
    """Stripe's source statuses: pending → chargeable → consumed; failed; canceled (expired or unused)."""
    match p.status:
        case PaymentState.REQUIRES_ACTION:
            return "pending"
        case PaymentState.AUTHORIZED:
            return "chargeable"
        case PaymentState.PROCESSING | PaymentState.SUCCEEDED:
            return "consumed"
        case PaymentState.FAILED:
            return "failed" if p.authorized_at is None else "consumed"  # a failed charge consumed it
        case PaymentState.CANCELED:
            return "failed" if p.authorized_at is None and p.cancellation_reason == USER_ABORT else "canceled"
        case PaymentState.EXPIRED:
            return "canceled"
        case _:
            assert_never(p.status)


def _redirect(p: Payment, base_url: str) -> dict[str, Any]:
    status, reason = "pending", None
    if p.authorized_at is not None:
        status = "succeeded"
    elif p.status is PaymentState.FAILED:
        status, reason = "failed", "declined"
    elif p.status is PaymentState.CANCELED:
        status, reason = "failed", "user_abort" if p.cancellation_reason == USER_ABORT else None
    elif p.status is PaymentState.EXPIRED:
        status = "failed"
    return {
        "failure_reason": reason,
        "return_url": p.return_url,
        "status": status,
        "url": f"{base_url}/pay/{p.redirect_token}",
    }


def _bank(p: Payment) -> dict[str, Any]:
    """The customer's bank as the sandbox bank page reports it, once the customer has authorized."""
    if p.authorized_at is None:
        return {"bank_code": None, "bank_name": None, "bic": None, "iban_last4": None}
    return {"bank_code": _IBAN[4:12], "bank_name": "Commerzbank", "bic": _BIC, "iban_last4": _IBAN[-4:]}


def _owner(p: Payment) -> dict[str, Any]:
    c = p.customer
    return {
        "address": c.get("address"), "email": c.get("email"), "name": c.get("name"), "phone": c.get("phone"),
        "verified_address": None, "verified_email": None,
        "verified_name": c.get("name") if p.authorized_at is not None else None, "verified_phone": None,
    }  # fmt: skip


def source_out(p: Payment, base_url: str) -> dict[str, Any]:
    data = StripeSourceData.of(p)
    return {
        "id": stripe_id(p.id),
        "object": "source",
        "allow_redisplay": None,
        "amount": p.amount_minor,
        "client_secret": data.client_secret or None,
        "created": ts(p.created_at),
        "currency": p.currency.lower(),
        "flow": "redirect",
        "livemode": False,
        "metadata": dict(p.metadata),
        "owner": _owner(p),
        "redirect": _redirect(p, base_url),
        "sofort": {
            **_bank(p),
            "country": p.country,
            "preferred_language": data.preferred_language,
            "statement_descriptor": data.statement_descriptor,
        },
        "statement_descriptor": data.statement_descriptor,
        "status": source_status(p),
        "type": "sofort",
        "usage": "single_use",
    }


def charge_status(c: Capture) -> str:
    match c.status:
        case CaptureState.PENDING:
            return "pending"
        case CaptureState.SUCCEEDED:
            return "succeeded"
        case CaptureState.FAILED:
            return "failed"
        case _:
            assert_never(c.status)


def refund_status(r: Refund) -> str:
    match r.status:
        case RefundState.PENDING:
            return "pending"
        case RefundState.SUCCEEDED:
            return "succeeded"
        case RefundState.FAILED:
            return "failed"
        case RefundState.CANCELED:
            return "canceled"
        case _:
            assert_never(r.status)


def charge_out(
    c: Capture, p: Payment, refunds: list[Refund], transfers: list[Transfer], base_url: str
) -> dict[str, Any]:
    """A Sofort charge. ``transfers`` are the payment's ledger transfers (balance transactions)."""
    data = StripeSourceData.of(p)
    charge = data.charge or StripeChargeData()
    status = charge_status(c)
    refunded = sum(r.amount_minor for r in refunds if r.status in (RefundState.PENDING, RefundState.SUCCEEDED))
    failed = status == "failed"
    bank = {**_bank(p), "country": p.country, "preferred_language": data.preferred_language}
    return {
        "id": stripe_id(c.id),
        "object": "charge",
        "amount": c.amount_minor,
        "amount_captured": 0 if failed else c.amount_minor,
        "amount_refunded": refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": _txn(transfers, "capture"),
        "billing_details": {
            "address": None,
            "email": p.customer.get("email"),
            "name": p.customer.get("name"),
            "phone": p.customer.get("phone"),
        },
        "calculated_statement_descriptor": charge.statement_descriptor or data.statement_descriptor,
        "captured": True,
        "created": ts(c.created_at),
        "currency": c.currency.lower(),
        "customer": None,
        "description": charge.description,
        "disputed": False,
        "failure_balance_transaction": _txn(transfers, "settlement_failed"),
        "failure_code": "processing_error" if failed else None,
        "failure_message": "The customer's bank transfer did not arrive before the cut-off" if failed else None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(charge.metadata),
        "on_behalf_of": None,
        "outcome": {
            "network_status": "declined_by_network" if failed else "approved_by_network",
            "reason": None,
            "risk_level": "not_assessed",
            "seller_message": "Payment failed." if failed else "Payment complete.",
            # Stripe's word for a payment the customer's bank did not complete.
            "type": "issuer_declined" if failed else "authorized",
        },
        "paid": status == "succeeded",
        "payment_intent": None,
        "payment_method": None,
        "payment_method_details": {
            "type": "sofort",
            "sofort": {
                **bank,
                "generated_sepa_debit": None,
                "generated_sepa_debit_mandate": None,
                "verified_name": p.customer.get("name"),
            },
        },
        "receipt_email": charge.receipt_email,
        "receipt_number": None,
        "receipt_url": f"{base_url}/stripe/receipts/{p.redirect_token}",
        "refunded": refunded >= c.amount_minor,
        "refunds": {
            "object": "list",
            "data": [refund_out(r, c, transfers) for r in refunds],
            "has_more": False,
            "total_count": len(refunds),
            "url": f"/v1/charges/{stripe_id(c.id)}/refunds",
        },
        "review": None,
        "shipping": None,
        "source": source_out(p, base_url),
        "source_transfer": None,
        "statement_descriptor": charge.statement_descriptor,
        "statement_descriptor_suffix": charge.statement_descriptor_suffix,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def _txn(transfers: list[Transfer], code: str, refund_id: str | None = None) -> str | None:
    for t in transfers:
        if t.code == code and t.moves_money and (refund_id is None or t.refund_id == refund_id):
            return stripe_id(t.id)
    return None


def refund_out(r: Refund, c: Capture | None, transfers: list[Transfer]) -> dict[str, Any]:
    """Stripe omits ``description``, ``destination_details``, ``failure_*``, ``instructions_email``,
    ``next_action`` and ``pending_reason`` where they do not apply; so does Kasse."""
    out: dict[str, Any] = {
        "id": stripe_id(r.id),
        "object": "refund",
        "amount": r.amount_minor,
        "balance_transaction": _txn(transfers, "refund", r.id),
        "charge": stripe_id(c.id) if c is not None else None,
        "created": ts(r.created_at),
        "currency": r.currency.lower(),
        "metadata": dict(r.metadata),
        "payment_intent": None,
        "reason": r.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": refund_status(r),
        "transfer_reversal": None,
    }
    if r.status is RefundState.PENDING:
        # A Kasse refund waits only on its charge's money (a settled charge's refund succeeds at once, in
        # the same unit of work as the settlement that performs a waiting one).
        out["pending_reason"] = "charge_pending"
    elif r.status is RefundState.FAILED:
        out["failure_reason"] = "unknown"
    return out


def transfer_amount(t: Transfer) -> int:
    return sum(leg.amount_minor for leg in t.legs if leg.amount_minor > 0)
