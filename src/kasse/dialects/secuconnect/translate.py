"""Pure mapping between the engine and secuconnect's words: the Smart Transaction's status (Status Flow
of a Smart Transaction), the payment transaction's ``status_simple`` (only the codes pretix-secuconnect's
``PaymentStatusSimple`` knows: any other crashes it), and the objects ``smart.transactions`` and
``payment.transactions`` as the API answers them."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any, assert_never

from kasse.dialects.secuconnect import ids
from kasse.dialects.secuconnect.data import SecuData
from kasse.domain.clock import utc
from kasse.domain.models import Payment, Refund
from kasse.domain.states import PaymentState, RefundState

__all__ = [
    "StatusSimple",
    "check_status_out",
    "page_url",
    "payment_simple",
    "payment_transaction_out",
    "pci_visible",
    "refund_simple",
    "refund_transaction_out",
    "remaining_minor",
    "smart_status",
    "smart_transaction_out",
]


class StatusSimple(IntEnum):
    """secuconnect's simple status of a payment transaction; the text is the lower-case name."""

    PROCEED = 0
    ACCEPTED = 1
    AUTHORIZED = 2
    DENIED = 3
    ISSUE = 4
    VOID = 5
    ISSUE_RESOLVED = 6
    REFUND = 7
    CREATED = 8
    PAID = 9
    PENDING = 10
    SUBSCRIPTION_APPROVED = 11
    SUBSCRIPTION_DECLINED = 12
    ON_HOLD = 13
    WAITING_FOR_SHIPMENT = 14
    UNKNOWN = 99

    @property
    def text(self) -> str:
        return self.name.lower()


# The detailed secupay status (``status``/``status_text``) is internal to secupay; Kasse answers a fixed
# German text per simple status, as secupay's texts are German ("abgeschlossen", "Vorkasse wartend").
_DETAIL_TEXT = {
    StatusSimple.PROCEED: "erstellt",
    StatusSimple.ACCEPTED: "abgeschlossen",
    StatusSimple.AUTHORIZED: "autorisiert",
    StatusSimple.DENIED: "abgelehnt",
    StatusSimple.VOID: "storniert",
    StatusSimple.REFUND: "Erstattung vorgemerkt",
    StatusSimple.PENDING: "wartend",
}


def smart_status(payment: Payment) -> str:
    """created → pending (Sofort is captured with the authorization) → ok; an ``order`` intent is
    ``received`` where a ``sale`` is ``ok``. ``approved`` would be an uncaptured authorization."""
    state = payment.status
    if state is PaymentState.REQUIRES_ACTION:
        return "created"
    if state is PaymentState.AUTHORIZED:
        return "approved"
    if state is PaymentState.PROCESSING:
        return "pending"
    if state is PaymentState.SUCCEEDED:
        return "received" if SecuData.of(payment).intent == "order" else "ok"
    if state is PaymentState.FAILED:
        return "failed"
    if state is PaymentState.CANCELED or state is PaymentState.EXPIRED:
        return "cancelled"  # secuconnect's spelling (cancelTrx answers "cancelled")
    assert_never(state)


def payment_simple(payment: Payment) -> StatusSimple:
    """The payment transaction's simple status; refunded in full it is ``void`` ("cancelled, or refunded")."""
    state = payment.status
    if state is PaymentState.REQUIRES_ACTION:
        return StatusSimple.PROCEED
    if state is PaymentState.AUTHORIZED:
        return StatusSimple.AUTHORIZED
    if state is PaymentState.PROCESSING or state is PaymentState.SUCCEEDED:
        if payment.amount_refunded_minor >= payment.amount_minor:
            return StatusSimple.VOID
        return StatusSimple.PENDING if state is PaymentState.PROCESSING else StatusSimple.ACCEPTED
    if state is PaymentState.FAILED:
        return StatusSimple.DENIED
    if state is PaymentState.CANCELED or state is PaymentState.EXPIRED:
        return StatusSimple.VOID
    assert_never(state)


def refund_simple(state: RefundState) -> StatusSimple:
    """A refund child: flagged for the next bank cycle, then accepted (secuconnect's example refund)."""
    if state is RefundState.PENDING:
        return StatusSimple.REFUND
    if state is RefundState.SUCCEEDED:
        return StatusSimple.ACCEPTED
    if state is RefundState.FAILED:
        return StatusSimple.DENIED
    if state is RefundState.CANCELED:
        return StatusSimple.VOID
    assert_never(state)


def pci_visible(payment: Payment) -> bool:
    """A payment transaction exists once the customer acted at the bank (approved or declined); a
    Smart Transaction aborted or left unpaid has none (``transactions: []``)."""
    return payment.authorized_at is not None or payment.status is PaymentState.FAILED


def _time(value: datetime | None) -> str | None:
    return None if value is None else utc(value).isoformat(timespec="seconds")


def page_url(payment: Payment, base_url: str) -> str:
    """The Sofort page (``iframe_url``, ``payment_links.sofort``); never to be framed (seed)."""
    return f"{base_url}/secuconnect/payment/go/{payment.redirect_token}"


def _customer(payment: Payment) -> dict[str, Any]:
    given = SecuData.of(payment).customer
    return {"object": "payment.customers", "id": ids.customer_id(payment.id), **given} if given else {}


def smart_transaction_out(payment: Payment, base_url: str) -> dict[str, Any]:
    data = SecuData.of(payment)
    link = page_url(payment, base_url)
    out: dict[str, Any] = {
        "object": "smart.transactions",
        "id": ids.stx_of(payment.id),
        "contract": data.contract or None,
        "customer": _customer(payment),
        "transactionRef": data.transaction_ref,
        "merchantRef": data.merchant_ref,
        "basket": data.basket or None,
        "basket_info": {"sum": payment.amount_minor, "currency": payment.currency},
        "idents": [],
        "intent": data.intent,
        "created": _time(payment.created_at),
        "updated": _time(payment.updated_at),
        "status": smart_status(payment),
        "trans_id": ids.trans_id(payment.id),
        "payment_method": data.payment_method,
        "transactions": [{"object": "payment.transactions", "id": ids.pci_of_payment(payment.id)}]
        if pci_visible(payment) else [],
        "is_demo": data.is_demo,
        "payment_links": {"sofort": link, "general": link},
        "application_context": data.application_context or None,
        "payment_context": data.payment_context or None,
    }  # fmt: skip
    if data.payment_method is not None:
        out["iframe_url"] = link
    return out


def _details(simple: StatusSimple, amount: int, description: str) -> dict[str, Any]:
    return {
        "amount": amount,
        "cleared": "open",
        "status": int(simple),
        "status_text": _DETAIL_TEXT.get(simple, simple.text),
        "status_simple": int(simple),
        "status_simple_text": simple.text,
        "description": description,
    }


def _payment_data(payment: Payment) -> dict[str, Any]:
    account = SecuData.of(payment).account
    return {"object": "payment.containers", "iban": account.get("iban"), "bic": account.get("bic")} if account else {}


def payment_transaction_out(payment: Payment, refunds: list[Refund]) -> dict[str, Any]:
    simple = payment_simple(payment)
    data = SecuData.of(payment)
    tid = ids.trans_id(payment.id)
    return {
        "object": "payment.transactions",
        "id": ids.pci_of_payment(payment.id),
        "trans_id": tid,
        "parents": [],
        "related_transactions": [
            {
                "object": "payment.transactions",
                "id": ids.pci_of_refund(r.id),
                "hierarchy": "child",
                "trans_id": ids.trans_id(r.id),
            }
            for r in refunds
        ],
        "product_id": 12,
        "product": "Sofort",
        "amount": payment.amount_minor,
        "currency": payment.currency,
        "created": _time(payment.created_at),
        "updated": _time(payment.updated_at),
        "completion_date": _time(payment.updated_at) if payment.status is PaymentState.SUCCEEDED else None,
        "description": payment.description or "",
        "status": int(simple),
        "status_text": _DETAIL_TEXT.get(simple, simple.text),
        "details": _details(simple, payment.amount_minor, f"TA-Code {tid}"),
        "customer": _customer(payment),
        "payment_data": _payment_data(payment),
        "reference_id": data.transaction_ref,
        "order_id": data.merchant_ref,
    }


def refund_transaction_out(payment: Payment, refund: Refund) -> dict[str, Any]:
    """A refund child: negative amount, product ``Erstattung``, its parent named (secuconnect's example)."""
    simple = refund_simple(refund.status)
    parent_tid, tid = ids.trans_id(payment.id), ids.trans_id(refund.id)
    return {
        "object": "payment.transactions",
        "id": ids.pci_of_refund(refund.id),
        "trans_id": tid,
        "parents": [
            {
                "object": "payment.transactions",
                "id": ids.pci_of_payment(payment.id),
                "ref_type_id": 19,
                "trans_id": parent_tid,
            }
        ],
        "related_transactions": [
            {
                "object": "payment.transactions",
                "id": ids.pci_of_payment(payment.id),
                "hierarchy": "parent",
                "trans_id": parent_tid,
            }
        ],
        "product_id": 19,
        "product": "Erstattung",
        "amount": -refund.amount_minor,
        "currency": refund.currency,
        "created": _time(refund.created_at),
        "updated": _time(refund.updated_at),
        "completion_date": _time(refund.updated_at) if refund.status is RefundState.SUCCEEDED else None,
        "description": refund.reason or "",
        "status": int(simple),
        "status_text": _DETAIL_TEXT.get(simple, simple.text),
        "details": _details(simple, -refund.amount_minor, f"TA-Code {parent_tid}|Refund TA-Code {tid}"),
        "customer": _customer(payment),
        "payment_data": _payment_data(payment),
    }


def remaining_minor(payment: Payment) -> int:
    """What is left of the payment: nothing unless the money was captured, less what was refunded."""
    return max(payment.amount_captured_minor - payment.amount_refunded_minor, 0)


def check_status_out(payment: Payment) -> dict[str, Any]:
    """``checkStatus``: pretix-secuconnect reads ``amount`` as the remaining amount in cents."""
    simple = payment_simple(payment)
    return {
        "status": int(simple),
        "status_text": _DETAIL_TEXT.get(simple, simple.text),
        "status_simple": int(simple),
        "status_simple_text": simple.text,
        "amount": remaining_minor(payment),
        "currency": payment.currency,
    }
