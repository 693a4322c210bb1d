"""Row ↔ domain object mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import RowMapping

from kasse.domain.models import (
    Approval,
    Capture,
    CaptureMethod,
    Event,
    Merchant,
    Method,
    Payment,
    Refund,
    Scenario,
    Settlement,
    Timer,
    field_names,
    timer_kind,
)
from kasse.domain.states import CaptureState, PaymentState, RefundState
from kasse.domain.webhooks import Delivery, DeliveryStatus, EndpointStatus, WebhookEndpoint

__all__ = ["from_row", "to_row"]

T = TypeVar("T")

_CONVERT: dict[str, Any] = {
    "method": Method,
    "capture_method": CaptureMethod,
    "kind": timer_kind,
}
_STATUS: dict[type, Any] = {
    Payment: PaymentState,
    Capture: CaptureState,
    Refund: RefundState,
    WebhookEndpoint: EndpointStatus,
    Delivery: DeliveryStatus,
}


_NAME_SETS: dict[type, frozenset[str]] = {}


def to_row(obj: Any) -> dict[str, Any]:
    row = {name: getattr(obj, name) for name in field_names(type(obj))}
    scenario = row.get("scenario")
    if isinstance(scenario, Scenario):
        row["scenario"] = {"approval": scenario.approval.value, "settlement": scenario.settlement.value}
    return row


def from_row(cls: type[T], row: RowMapping | Mapping[str, Any]) -> T:
    names = _NAME_SETS.get(cls)
    if names is None:
        names = _NAME_SETS[cls] = frozenset(field_names(cls))
    values = {k: v for k, v in row.items() if k in names}
    for key, conv in _CONVERT.items():
        if key in values and values[key] is not None:
            values[key] = conv(values[key])
    if "status" in values and cls in _STATUS:
        values["status"] = _STATUS[cls](values["status"])
    if cls is Payment:
        sc = values["scenario"] or {}
        values["scenario"] = Scenario(
            Approval(sc.get("approval", "customer")), Settlement(sc.get("settlement", "succeed"))
        )
    return cls(**values)


# Keep the imported names used (mypy/ruff): these types are what `from_row` produces.
_ = (Event, Merchant, Timer)
