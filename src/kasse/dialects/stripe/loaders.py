"""Stripe objects read from the store: a charge is its capture, its payment, the payment's refunds and
ledger transfers; a refund needs its charge. Used by the routes and by the derived events."""

from __future__ import annotations

from typing import Any

from kasse.dialects.stripe import translate as out
from kasse.domain.errors import NotFound
from kasse.domain.models import Capture, Payment, Refund
from kasse.storage.store import Store

__all__ = ["charge_of", "find_charge", "find_refund", "find_source", "refund_of"]

ORIGIN = "stripe"


def find_source(store: Store, merchant_id: str, source_id: str, *, param: str | None = "id") -> Payment:
    payment_id = out.kasse_id(source_id, "src")
    payment = None if payment_id is None else store.get_payment(merchant_id=merchant_id, payment_id=payment_id)
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
