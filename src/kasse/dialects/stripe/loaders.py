"""Stripe objects read from the store: a charge is its capture, its payment, the payment's refunds and
ledger transfers; a refund needs its charge. Used by the routes and by the derived events."""

from __future__ import annotations

from typing import Any

from kasse.dialects.stripe import translate as out
from kasse.domain.errors import NotFound
from kasse.domain.ledger import Transfer
from kasse.domain.models import Capture, Payment, Refund
from kasse.domain.states import CaptureState
from kasse.storage.store import Store

__all__ = [
    "CODES",
    "TYPES",
    "balance_transaction",
    "charge_of",
    "find_charge",
    "find_refund",
    "find_source",
    "refund_of",
    "transaction_out",
]

ORIGIN = "stripe"


def find_source(
    store: Store, merchant_id: str, source_id: str, *, param: str | None = "id", for_update: bool = False
) -> Payment:
    """``for_update``: locked from the first read (a charge checks the source, then changes it)."""
    payment_id = out.kasse_id(source_id, "src")
    payment = (
        None if payment_id is None
        else store.get_payment(merchant_id=merchant_id, payment_id=payment_id, for_update=for_update)
    )  # fmt: skip
    if payment is None or payment.origin != ORIGIN:
        raise NotFound("source", source_id, param=param)
    return payment


def find_charge(store: Store, merchant_id: str, charge_id: str, *, param: str | None = "id") -> Capture:
    capture_id = out.kasse_id(charge_id, "ch")
    capture = None if capture_id is None else store.get_capture(merchant_id=merchant_id, capture_id=capture_id)
    if capture is None:
        raise NotFound("charge", charge_id, param=param)
    payment = store.get_payment(merchant_id=merchant_id, payment_id=capture.payment_id)
    if payment is None or payment.origin != ORIGIN:
        raise NotFound("charge", charge_id, param=param)
    return capture


def find_refund(store: Store, merchant_id: str, refund_id: str) -> Refund:
    kasse_refund_id = out.kasse_id(refund_id, "re")
    refund = None if kasse_refund_id is None else store.get_refund(merchant_id=merchant_id, refund_id=kasse_refund_id)
    payment = None if refund is None else store.get_payment(merchant_id=merchant_id, payment_id=refund.payment_id)
    if refund is None or payment is None or payment.origin != ORIGIN:
        raise NotFound("refund", refund_id, param="id")
    return refund


def charge_of(store: Store, capture: Capture, base_url: str, *, payment: Payment | None = None) -> dict[str, Any]:
    merchant_id = capture.merchant_id
    payment = payment or store.get_payment(merchant_id=merchant_id, payment_id=capture.payment_id)
    assert payment is not None
    refunds = store.refunds_of(merchant_id=merchant_id, payment_id=payment.id)
    transfers = store.list_transfers_with_codes(
        merchant_id=merchant_id, codes=["capture", "settlement_failed", "refund"], limit=100, payment_id=payment.id
    ).items
    return out.charge_out(capture, payment, sorted(refunds, key=lambda r: r.id, reverse=True), transfers, base_url)


def refund_of(store: Store, refund: Refund) -> dict[str, Any]:
    captures = store.captures_of(merchant_id=refund.merchant_id, payment_id=refund.payment_id)
    transfers = store.list_transfers_with_codes(
        merchant_id=refund.merchant_id, codes=["refund"], limit=100, payment_id=refund.payment_id
    ).items
    return out.refund_out(refund, captures[0] if captures else None, transfers)


# --- balance transactions: a charge's capture transfer (pending until the money arrives), a failed
# charge's reversal, a refund's payout to the customer. Fees are zero.

CODES = ["capture", "settlement_failed", "refund"]
TYPES = {"capture": "charge", "settlement_failed": "payment_failure_refund", "refund": "refund"}


def transaction_out(store: Store, t: Transfer) -> dict[str, Any]:
    amount = out.transfer_amount(t)
    source, status, available_on = None, "available", t.created_at
    if t.code == "refund":
        amount, source = -amount, out.stripe_id(t.refund_id) if t.refund_id else None
    else:
        caps = store.captures_of(merchant_id=t.merchant_id, payment_id=t.payment_id) if t.payment_id else []
        cap = caps[0] if caps else None
        source = out.stripe_id(cap.id) if cap else None
        if t.code == "settlement_failed":
            amount = -amount
        elif cap is not None:
            status = "available" if cap.status is CaptureState.SUCCEEDED else "pending"
            available_on = cap.settles_at
    return {
        "id": out.stripe_id(t.id), "object": "balance_transaction", "amount": amount,
        "available_on": out.ts(available_on), "created": out.ts(t.created_at), "currency": t.currency.lower(),
        "balance_type": "payments", "description": None, "exchange_rate": None, "fee": 0, "fee_details": [],
        "net": amount,
        "reporting_category": TYPES[t.code], "source": source, "status": status, "type": TYPES[t.code],
    }  # fmt: skip


def balance_transaction(store: Store, merchant_id: str, txn_id: str) -> dict[str, Any]:
    transfer_id = out.kasse_id(txn_id, "txn")
    found = None if transfer_id is None else store.get_transfer(merchant_id=merchant_id, transfer_id=transfer_id)
    if found is None or found.code not in CODES or not found.moves_money:
        raise NotFound("balance_transaction", txn_id, param="id")
    return transaction_out(store, found)
