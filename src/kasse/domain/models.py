"""The domain objects. Plain dataclasses; storage maps them to rows, dialects to wire shapes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kasse.domain.clock import utc
from kasse.domain.states import CaptureState, PaymentState, RefundState

__all__ = [
    "Approval",
    "Capture",
    "CaptureMethod",
    "Event",
    "Merchant",
    "Method",
    "Payment",
    "Refund",
    "Scenario",
    "Settlement",
    "Timer",
    "TimerKind",
    "from_snapshot",
    "snapshot",
    "timer_kind",
]


class Method(StrEnum):
    SOFORT = "sofort"
    KLARNA_PAY_NOW = "klarna_pay_now"
    KLARNA_PAY_LATER = "klarna_pay_later"
    KLARNA_SLICE_IT = "klarna_slice_it"
    KLARNA_DIRECT_DEBIT = "klarna_direct_debit"

    @property
    def is_klarna(self) -> bool:
        return self.value.startswith("klarna_")


class CaptureMethod(StrEnum):
    AUTOMATIC = "automatic"  # captured with the authorization (Sofort always is)
    MANUAL = "manual"


class Approval(StrEnum):
    CUSTOMER = "customer"  # the customer decides on the hosted page
    APPROVE = "approve"  # approved at creation, no redirect needed (e.g. Stripe `…_chargeable@…`)
    DECLINE = "decline"  # declined at creation
    # Approved by the simulated bank a few seconds after creation, with no redirect (Stripe
    # `…_chargeable@example.com`: "created as pending, chargeable within seconds").
    APPROVE_SHORTLY = "approve_shortly"


class Settlement(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"  # the money never arrives; the capture fails at the provider's cut-off
    # Stripe `owner[name]` magic values: the charge is decided straight after it was created.
    SUCCEED_AT_ONCE = "succeed_at_once"
    FAIL_AT_ONCE = "fail_at_once"

    @property
    def fails(self) -> bool:
        return self in (Settlement.FAIL, Settlement.FAIL_AT_ONCE)

    @property
    def at_once(self) -> bool:
        return self in (Settlement.SUCCEED_AT_ONCE, Settlement.FAIL_AT_ONCE)


@dataclass(frozen=True, slots=True)
class Scenario:
    """What the simulated bank will do, recorded on the payment when it is created."""

    approval: Approval = Approval.CUSTOMER
    settlement: Settlement = Settlement.SUCCEED


@dataclass(slots=True)
class Merchant:
    id: str
    name: str
    clock_offset_us: int = 0
    clock_frozen_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class Payment:
    id: str
    merchant_id: str
    origin: str  # the dialect that created it, which owns its wire format and rules
    amount_minor: int
    currency: str
    method: Method
    country: str | None
    status: PaymentState
    capture_method: CaptureMethod
    redirect_token: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    description: str | None = None
    reference: str | None = None
    return_url: str | None = None
    cancel_url: str | None = None
    customer: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    provider_data: dict[str, Any] = field(default_factory=dict)
    scenario: Scenario = field(default_factory=Scenario)
    amount_captured_minor: int = 0  # pending and settled captures
    amount_settled_minor: int = 0
    amount_refunded_minor: int = 0  # pending and succeeded refunds
    amount_capturable_minor: int = 0  # what is still held by the authorization (the open hold)
    hold_transfer_id: str | None = None  # the open pending ledger transfer of the authorization
    authorized_at: datetime | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    cancellation_reason: str | None = None
    version: int = 1

    @property
    def amount_refundable_minor(self) -> int:
        return self.amount_captured_minor - self.amount_refunded_minor


@dataclass(slots=True)
class Capture:
    id: str
    merchant_id: str
    payment_id: str
    amount_minor: int
    currency: str
    status: CaptureState
    final: bool
    created_at: datetime
    updated_at: datetime
    settles_at: datetime
    sequence: int = 1


@dataclass(slots=True)
class Refund:
    id: str
    merchant_id: str
    payment_id: str
    amount_minor: int
    currency: str
    status: RefundState
    created_at: datetime
    updated_at: datetime
    reason: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    deferred: bool = False  # waits until the payment has succeeded
    hold_transfer_id: str | None = None
    failure_reason: str | None = None


class TimerKind(StrEnum):
    """The engine's own timer kinds. A dialect brings kinds of its own (token or session expiry) as plain
    names with their handlers (``Kasse(hooks=...)``); a timer's ``kind`` is either."""

    PAYMENT_EXPIRY = "payment_expiry"  # the customer never finished
    AUTHORIZATION_EXPIRY = "authorization_expiry"  # an authorization went unused
    CAPTURE_SETTLEMENT = "capture_settlement"  # the money of a capture arrives (or fails)
    REFUND_SETTLEMENT = "refund_settlement"
    SCENARIO_APPROVAL = "scenario_approval"  # the simulated bank approves (Approval.APPROVE_SHORTLY)


def timer_kind(name: str) -> str:
    """The engine's ``TimerKind`` of ``name`` when it is one (compared with ``is``), else ``name``."""
    return TimerKind(name) if name in _ENGINE_KINDS else name


_ENGINE_KINDS = frozenset(TimerKind)


@dataclass(slots=True)
class Timer:
    id: str
    merchant_id: str
    kind: str  # a TimerKind, or a kind a dialect registered
    subject_id: str
    due_at: datetime
    created_at: datetime
    fired_at: datetime | None = None


@dataclass(slots=True)
class Event:
    id: str
    merchant_id: str
    type: str
    object_type: str
    object_id: str
    payment_id: str | None
    data: dict[str, Any]
    created_at: datetime


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, computed once per class (``dataclasses.fields`` walks them each call)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_SCALARS = (str, int, bool, float, type(None))


def _plain(value: Any) -> Any:
    if type(value) in _SCALARS:  # the common case first; a StrEnum is not exactly a str
        return value
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """A JSON-safe copy of an object as it was when an event was emitted."""
    out: dict[str, Any] = {}
    for name in field_names(type(obj)):
        value = getattr(obj, name)
        if isinstance(value, Scenario):
            value = {"approval": value.approval.value, "settlement": value.settlement.value}
        out[name] = _plain(value)
    return out


_DATETIMES = {"created_at", "updated_at", "expires_at", "authorized_at", "settles_at"}


def from_snapshot(kind: str, data: dict[str, Any]) -> Payment | Capture | Refund:
    values = dict(data)
    for name in _DATETIMES & values.keys():
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    if kind == "payment":
        values["method"] = Method(values["method"])
        values["status"] = PaymentState(values["status"])
        values["capture_method"] = CaptureMethod(values["capture_method"])
        sc = values.get("scenario") or {}
        values["scenario"] = Scenario(
            Approval(sc.get("approval", "customer")), Settlement(sc.get("settlement", "succeed"))
        )
        return Payment(**values)
    if kind == "capture":
        values["status"] = CaptureState(values["status"])
        return Capture(**values)
    if kind == "refund":
        values["status"] = RefundState(values["status"])
        return Refund(**values)
    raise ValueError(f"unknown object kind {kind!r}")
