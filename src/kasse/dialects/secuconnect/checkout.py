"""The secuconnect use cases, each run by the engine in one unit of work (``kasse.run``): create a Smart
Transaction, prepare it for the custom Sofort checkout, abort it, pay it on the Sofort page, and refund
(``cancel``) its payment transaction. What only secuconnect knows is checked here; the engine decides the
rest (states, money, rules)."""

from __future__ import annotations

import dataclasses
from typing import Any

from kasse.dialects.secuconnect import errors as e
from kasse.dialects.secuconnect import ids
from kasse.dialects.secuconnect.data import SecuData
from kasse.dialects.secuconnect.translate import payment_transaction_out, pci_visible, refund_transaction_out
from kasse.domain.models import Payment, Refund
from kasse.domain.states import PaymentState
from kasse.engine import payments, refunds, webhooks
from kasse.engine.lifecycle import get_payment
from kasse.engine.targets import CheckedUrl
from kasse.engine.unit import Tx
from kasse.storage.store import Store

__all__ = ["ORIGIN", "abort", "create", "find_smart", "find_transaction", "pay", "prepare", "refund"]

ORIGIN = "secuconnect"
PUSH_SECRET = "unsigned"  # pushes carry no signature; the endpoint row needs a value
METHODS = ("sofort",)


def create(tx: Tx, cmd: payments.CreatePayment, push_url: CheckedUrl | None) -> Payment:
    if push_url:
        endpoint = webhooks.notification_endpoint(tx, dialect=ORIGIN, url=push_url, secret=PUSH_SECRET)
        data = SecuData.from_dict(cmd.provider_data).with_endpoint(endpoint.id)
        cmd = dataclasses.replace(cmd, provider_data=data.as_dict())
    return payments.create_payment(tx, cmd)


def find_smart(store: Store, merchant_id: str, stx_id: str, *, for_update: bool = False) -> Payment:
    parsed = ids.parse(stx_id, prefix="STX")
    payment = None if parsed is None else store.get_payment(
        merchant_id=merchant_id, payment_id=parsed.engine_id, for_update=for_update
    )  # fmt: skip
    if payment is None or payment.origin != ORIGIN:
        raise e.SecuError(e.NOT_FOUND, f"Smart Transaction {stx_id} not found")
    return payment


def find_transaction(store: Store, merchant_id: str, pci_id: str) -> tuple[Payment, Refund | None]:
    """The payment (and the refund, for a refund child) behind a ``PCI_`` id of this merchant."""
    parsed = ids.parse(pci_id, prefix="PCI")
    refund = None
    payment_id = parsed.engine_id if parsed is not None and parsed.kind == "payment" else None
    if parsed is not None and parsed.kind == "refund":
        refund = store.get_refund(merchant_id=merchant_id, refund_id=parsed.engine_id)
        payment_id = refund.payment_id if refund is not None else None
    payment = None if payment_id is None else store.get_payment(merchant_id=merchant_id, payment_id=payment_id)
    if payment is None or payment.origin != ORIGIN or not pci_visible(payment):
        raise e.SecuError(e.NOT_FOUND, f"Payment Transaction {pci_id} not found")
    return payment, refund


def prepare(tx: Tx, stx_id: str, method: str, callback_urls: dict[str, str]) -> Payment:
    """``prepare/sofort``: the custom checkout's own return URLs; the customer goes to ``iframe_url``."""
    if method not in METHODS:
        raise e.SecuError(e.INVALID, f"Payment method '{method}' is not available: Kasse offers sofort")
    payment = find_smart(tx.store, tx.merchant_id, stx_id, for_update=True)
    if payment.status is not PaymentState.REQUIRES_ACTION:
        raise e.SecuError(e.NOT_ALLOWED, f"Smart Transaction {stx_id} cannot be prepared any more")
    data = SecuData.of(payment).prepared(method, callback_urls)
    return payments.update_details(tx, payment.id, provider_data=data.as_dict())


def abort(tx: Tx, stx_id: str) -> Payment:
    """``cancel`` / ``abort`` of a Smart Transaction the customer has not paid (a paid one is refunded
    through its payment transaction)."""
    payment = find_smart(tx.store, tx.merchant_id, stx_id, for_update=True)
    if payment.status is not PaymentState.REQUIRES_ACTION:
        raise e.SecuError(e.NOT_ALLOWED, f"Smart Transaction {stx_id} is no longer open; refund it instead")
    return payments.cancel(tx, payment.id, reason="requested_by_merchant")


def pay(tx: Tx, payment_id: str, account: dict[str, str]) -> Payment:
    """The customer approved on the Sofort page with the test account: authorized and captured at once
    (seed: "always captured with the authorisation"), the account kept for ``payment_data``."""
    payment = get_payment(tx, payment_id)
    payments.update_details(tx, payment.id, provider_data=SecuData.of(payment).paid_from(account).as_dict())
    return payments.authorize(tx, payment.id)


def refund(tx: Tx, pci_id: str, amount_minor: int | None, reason: str | None) -> list[dict[str, Any]]:
    """``cancel`` of a payment transaction: a refund child each time, never more than remains (the
    engine refuses more); the answer is the list of the parent and the new child."""
    payment, child = find_transaction(tx.store, tx.merchant_id, pci_id)
    if child is not None:
        raise e.SecuError(e.NOT_ALLOWED, f"{pci_id} is a refund; cancel its parent transaction")
    remaining = payment.amount_captured_minor - payment.amount_refunded_minor
    if amount_minor is not None and remaining > 0 and amount_minor > remaining:
        raise e.SecuError(e.AMOUNT, f"reduce_amount_by ({amount_minor}) exceeds the remaining amount ({remaining})")
    created = refunds.create_refund(tx, payment.id, amount_minor=amount_minor, reason=reason)
    payment = get_payment(tx, payment.id)
    found = tx.store.refunds_of(merchant_id=tx.merchant_id, payment_id=payment.id)
    return [payment_transaction_out(payment, found), refund_transaction_out(payment, created)]
