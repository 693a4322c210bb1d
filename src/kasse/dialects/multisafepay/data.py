"""What a MultiSafepay order keeps beyond the engine's payment (``Payment.provider_data``), typed.

Stored as the same JSON object as before this record existed (keys left out when unset), so old rows load
unchanged; unknown keys are ignored."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kasse.domain.models import Payment

__all__ = ["MspOrderData"]

_OPTIONAL = ("var1", "var2", "var3", "gateway_info", "custom_info", "notify_endpoint_id")


@dataclass(frozen=True, slots=True)
class MspOrderData:
    type: str = "redirect"  # redirect | direct
    gateway: str = "DIRECTBANK"
    notification_method: str = "POST"  # POST | GET
    var1: str | None = None
    var2: str | None = None
    var3: str | None = None
    gateway_info: dict[str, Any] | None = None  # the payer's account, as given (Sofort direct)
    custom_info: dict[str, Any] | None = None
    notify_endpoint_id: str | None = None  # the endpoint behind the order's notification_url

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MspOrderData:
        return cls(
            type=str(data.get("type") or "redirect"),
            gateway=str(data.get("gateway") or "DIRECTBANK"),
            notification_method=str(data.get("notification_method") or "POST"),
            var1=_text(data.get("var1")),
            var2=_text(data.get("var2")),
            var3=_text(data.get("var3")),
            gateway_info=_mapping(data.get("gateway_info")),
            custom_info=_mapping(data.get("custom_info")),
            notify_endpoint_id=_text(data.get("notify_endpoint_id")),
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
