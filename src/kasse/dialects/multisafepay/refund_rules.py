"""MultiSafepay's own refund rules, checked by the dialect before the engine refunds (error reference,
1034 "Cannot refund transaction"):

- a second refund of the same amount within 5 minutes (the merchant's clock) is refused, "to avoid
  double processing";
- a refund by item (``checkout_data``) refunds what the cart's total went down by (cart.py); the cart
  sent becomes the order's cart. The ``amount`` sent with it is ignored: the SDK sends the order's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kasse.dialects.multisafepay import cart
from kasse.dialects.multisafepay import errors as e
from kasse.dialects.multisafepay.data import MspOrderData
from kasse.domain.models import Payment, Refund
from kasse.domain.states import RefundState

__all__ = ["DUPLICATE_WINDOW_S", "RefundAsk", "by_item", "refuse_duplicate"]

DUPLICATE_WINDOW_S = 300
_COUNTED = (RefundState.PENDING, RefundState.SUCCEEDED)


@dataclass(frozen=True, slots=True)
class RefundAsk:
    amount_minor: int | None  # None: the whole rest
    cart_after: dict[str, Any] | None = None  # a refund by item: the order's cart afterwards


def by_item(payment: Payment, checkout_data: dict[str, Any]) -> RefundAsk:
    data = MspOrderData.of(payment)
    before = cart.total_minor(data.shopping_cart, data.checkout_options)
    after = cart.total_minor(checkout_data, data.checkout_options)
    if data.shopping_cart is None or after >= before:
        raise e.MspError(e.CANNOT_REFUND, e.titled(e.CANNOT_REFUND, "no item of the order's cart is refunded"))
    return RefundAsk(before - after, {**data.shopping_cart, "items": checkout_data["items"]})


def refuse_duplicate(refunds: list[Refund], amount_minor: int, now_at: datetime) -> None:
    since = now_at - timedelta(seconds=DUPLICATE_WINDOW_S)
    for refund in refunds:
        if refund.status in _COUNTED and refund.amount_minor == amount_minor and refund.created_at > since:
            raise e.MspError(
                e.CANNOT_REFUND,
                e.titled(e.CANNOT_REFUND, "a refund of the same amount was made less than 5 minutes ago"),
            )
