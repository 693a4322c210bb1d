"""Engine words → PAYONE's, as total maps (no default branch; tests/test_dialect_maps.py checks them).

``financingtype`` (seed 003): KIS "Slice it" (installments), KIV "Pay later" (invoice), KDD Klarna's
direct debit ("Pay now" — PAYONE's WooCommerce plugin calls it "Klarna Sofort bezahlen"), KBT "Pay now"
by direct bank transfer (the seed lists it; no PAYONE-authored client sends it). The TransactionStatus
``txaction`` values are shopware-6's ``TransactionActionEnum``.
"""

from __future__ import annotations

from typing import assert_never

from kasse.domain.events import EventType
from kasse.domain.models import Method
from kasse.domain.money import minor_to_major
from kasse.domain.states import PaymentState, RefundState

__all__ = [
    "CATEGORIES",
    "EVENT_TXACTION",
    "METHODS",
    "event_txaction",
    "major",
    "payment_txaction",
    "refund_txaction",
]

METHODS: dict[str, Method] = {
    "KIS": Method.KLARNA_SLICE_IT,
    "KIV": Method.KLARNA_PAY_LATER,
    "KDD": Method.KLARNA_DIRECT_DEBIT,
    "KBT": Method.KLARNA_PAY_NOW,
}

# financingtype → Klarna's payment method category (identifier, name), as start_session answers it.
CATEGORIES: dict[str, tuple[str, str]] = {
    "KIS": ("pay_over_time", "Slice it."),
    "KIV": ("pay_later", "Pay later."),
    "KDD": ("direct_debit", "Pay now."),
    "KBT": ("direct_bank_transfer", "Pay now."),
}

# Badges are served by Kasse itself (nothing loads from Klarna's CDN).
ASSET_PATH = "/klarna/kp/lib/v1/badge.svg"


# Every engine event → the TxStatus it sends (None: PAYONE sends nothing for it).
EVENT_TXACTION: dict[EventType, str | None] = {
    EventType.PAYMENT_CREATED: None,
    EventType.PAYMENT_AUTHORIZED: "appointed",
    EventType.PAYMENT_PROCESSING: None,
    EventType.PAYMENT_SUCCEEDED: None,
    EventType.PAYMENT_FAILED: "failed",
    EventType.PAYMENT_CANCELED: "cancelation",
    EventType.PAYMENT_EXPIRED: "failed",
    EventType.CAPTURE_CREATED: "capture",
    EventType.CAPTURE_SUCCEEDED: "paid",
    EventType.CAPTURE_FAILED: "failed",
    EventType.REFUND_CREATED: "debit",
    EventType.REFUND_SUCCEEDED: None,
    EventType.REFUND_FAILED: None,
    EventType.REFUND_CANCELED: None,
    EventType.WEBHOOK_ENDPOINT_DISABLED: None,
}


def event_txaction(event: EventType, *, preauthorized: bool) -> str | None:
    """A capture made by the authorization itself (``request=authorization``) sends no ``capture``: the
    shop never asked for one; ``paid`` follows when the money arrives."""
    if event is EventType.CAPTURE_CREATED and not preauthorized:
        return None
    return EVENT_TXACTION[event]


def payment_txaction(state: PaymentState) -> str:
    """The last TxStatus a transaction in ``state`` has sent."""
    match state:
        case PaymentState.REQUIRES_ACTION:
            return "redirect"
        case PaymentState.AUTHORIZED:
            return "appointed"
        case PaymentState.PROCESSING:
            return "capture"
        case PaymentState.SUCCEEDED:
            return "paid"
        case PaymentState.FAILED | PaymentState.EXPIRED:
            return "failed"
        case PaymentState.CANCELED:
            return "cancelation"
        case _:
            assert_never(state)


def refund_txaction(state: RefundState) -> str:
    match state:
        case RefundState.PENDING | RefundState.SUCCEEDED:
            return "debit"
        case RefundState.FAILED | RefundState.CANCELED:
            return "failed"
        case _:
            assert_never(state)


def major(amount_minor: int, currency: str) -> str:
    """TxStatus amounts are decimals with a point (``price=10.00``)."""
    return str(minor_to_major(amount_minor, currency))
