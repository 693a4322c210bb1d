"""What a MultiSafepay order keeps beyond the engine's payment (``Payment.provider_data``), typed.

Stored as the same JSON object as before this record existed (keys left out when unset), so old rows load
unchanged; unknown keys are ignored."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kasse.domain.models import Payment

__all__ = ["MspOrderData"]

_OPTIONAL = (
    "var1", "var2", "var3", "gateway_info", "custom_info", "notify_endpoint_id", "shopping_cart",
    "checkout_options", "order_adjustment", "reason", "bank_reached_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MspOrderData:
    type: str = "redirect"  # redirect | direct
    gateway: str = "DIRECTBANK"  # "" while the customer has still to choose on the payment page
    notification_method: str = "POST"  # POST | GET
    var1: str | None = None
    var2: str | None = None
    var3: str | None = None
    gateway_info: dict[str, Any] | None = None  # the payer's account, as given (Sofort direct)
    custom_info: dict[str, Any] | None = None
    notify_endpoint_id: str | None = None  # the endpoint behind the order's notification_url
    shopping_cart: dict[str, Any] | None = None  # as sent; refunds by item replace it with the cart after
    checkout_options: dict[str, Any] | None = None  # as sent (tax tables)
    order_adjustment: dict[str, Any] | None = None  # as sent
    reason: str | None = None  # the merchant's reason of an update (PATCH ``reason``)
    bank_reached_at: str | None = None  # ISO time the customer went on to Sofort (its 1-day clock)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MspOrderData:
        return cls(
            type=str(data.get("type") or "redirect"),
            gateway=str(data.get("gateway", "DIRECTBANK") or ""),
            notification_method=str(data.get("notification_method") or "POST"),
            var1=_text(data.get("var1")),
            var2=_text(data.get("var2")),
            var3=_text(data.get("var3")),
            gateway_info=_mapping(data.get("gateway_info")),
            custom_info=_mapping(data.get("custom_info")),
            notify_endpoint_id=_text(data.get("notify_endpoint_id")),
            shopping_cart=_mapping(data.get("shopping_cart")),
            checkout_options=_mapping(data.get("checkout_options")),
            order_adjustment=_mapping(data.get("order_adjustment")),
            reason=_text(data.get("reason")),
            bank_reached_at=_text(data.get("bank_reached_at")),
        )

    @classmethod
    def of(cls, payment: Payment) -> MspOrderData:
        return cls.from_dict(payment.provider_data)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type, "gateway": self.gateway, "notification_method": self.notification_method,
        }  # fmt: skip
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data

    def with_endpoint(self, endpoint_id: str) -> MspOrderData:
        return replace(self, notify_endpoint_id=endpoint_id)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _mapping(value: object) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else None
