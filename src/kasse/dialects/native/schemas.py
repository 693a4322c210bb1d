"""Wire models of the native API. Every field validated and length-limited; unknown fields refused."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

from kasse.dialects.native.numbers import INTEGRAL, Boolean
from kasse.domain.models import Approval, CaptureMethod, Method, Settlement
from kasse.domain.money import CURRENCY_EXPONENTS
from kasse.domain.urls import MAX_URL_LENGTH, require_http_url

__all__ = [
    "BalanceOut",
    "CaptureIn",
    "CaptureOut",
    "CreatePaymentIn",
    "ErrorOut",
    "EventOut",
    "ListOut",
    "PaymentOut",
    "RefundIn",
    "RefundOut",
    "TransferOut",
]

MAX_AMOUNT = 99_999_999


def _currency(value: str) -> str:
    if value not in CURRENCY_EXPONENTS:
        raise ValueError(f"'{value}' is not an ISO 4217 currency code (e.g. EUR)")
    return value


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError("must be an ISO 3166-1 alpha-2 country code in upper case (e.g. DE)")
    return value


# The published schema says what is enforced (kasse.domain.urls): an absolute http(s) URI in printable
# ASCII without whitespace, quotes, angle brackets or backslashes.
URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[!#-;=?-\[\]-~]+$"
Url = Annotated[
    str,
    Field(max_length=MAX_URL_LENGTH, json_schema_extra={"format": "uri", "pattern": URL_PATTERN}),
    AfterValidator(require_http_url),
]
# The schema enumerates the codes the server takes, so generated clients and fuzzers agree with it.
Currency = Annotated[
    str,
    Field(min_length=3, max_length=3, examples=["EUR"], json_schema_extra={"enum": sorted(CURRENCY_EXPONENTS)}),
    AfterValidator(_currency),
]
Country = Annotated[
    str,
    Field(min_length=2, max_length=2, examples=["DE"], json_schema_extra={"pattern": "^[A-Z]{2}$"}),
    AfterValidator(_country),
]
Amount = Annotated[
    StrictInt, Field(gt=0, le=MAX_AMOUNT, description="In minor units (cents)", examples=[1000]), INTEGRAL
]
Metadata = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=40)], Annotated[str, Field(max_length=500)]],
    Field(max_length=50, description="Up to 50 keys (40 characters) with string values (500 characters)"),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Customer(_In):
    name: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    locale: Annotated[str, Field(max_length=10, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] | None = None


class SandboxIn(_In):
    """What the simulated bank will do: the customer decides by default; settlement succeeds."""

    approval: Approval = Approval.CUSTOMER
    settlement: Settlement = Settlement.SUCCEED


class CreatePaymentIn(_In):
    amount: Amount
    currency: Currency
    method: Method
    country: Country | None = None
    description: Annotated[str, Field(max_length=500)] | None = None
    reference: Annotated[str, Field(max_length=200, description="Your order reference")] | None = None
    return_url: Url
    cancel_url: Url | None = None
    customer: Customer | None = None
    metadata: Metadata = Field(default_factory=dict)
    capture: CaptureMethod = CaptureMethod.AUTOMATIC
    expires_in: Annotated[StrictInt, Field(ge=60, le=30 * 86_400), INTEGRAL] = Field(
        default=86_400, description="Seconds the customer has to finish; then the payment is expired"
    )
    sandbox: SandboxIn | None = None


class CaptureIn(_In):
    amount: Amount | None = None
    final: Boolean = Field(default=True, description="Release what is left of the authorization")


class CancelIn(_In):
    reason: Annotated[str, Field(max_length=60)] | None = None


class RefundIn(_In):
    amount: Amount | None = None
    reason: Annotated[str, Field(max_length=200)] | None = None
    metadata: Metadata = Field(default_factory=dict)


class NextAction(BaseModel):
    type: Literal["redirect"] = "redirect"
    redirect_url: str


class Failure(BaseModel):
    code: str
    message: str | None


class PaymentOut(BaseModel):
    id: str
    object: Literal["payment"] = "payment"
    livemode: bool = False
    amount: int
    currency: str
    method: Method
    country: str | None
    status: str
    capture: CaptureMethod
    description: str | None
    reference: str | None
    return_url: str | None
    cancel_url: str | None
    customer: dict[str, Any]
    metadata: dict[str, str]
    amount_capturable: int
    amount_captured: int
    amount_settled: int
    amount_refunded: int
    next_action: NextAction | None
    failure: Failure | None
    cancellation_reason: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    authorized_at: datetime | None


class CaptureOut(BaseModel):
    id: str
    object: Literal["capture"] = "capture"
    payment_id: str
    amount: int
    currency: str
    status: str
    final: bool
    sequence: int
    created_at: datetime
    settles_at: datetime


class RefundOut(BaseModel):
    id: str
    object: Literal["refund"] = "refund"
    payment_id: str
    amount: int
    currency: str
    status: str
    reason: str | None
    metadata: dict[str, str]
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


class EventOut(BaseModel):
    id: str
    object: Literal["event"] = "event"
    type: str
    created_at: datetime
    data: dict[str, Any]


class Money(BaseModel):
    amount: int
    currency: str


class BalanceOut(BaseModel):
    object: Literal["balance"] = "balance"
    available: list[Money]
    pending: list[Money]


class Leg(BaseModel):
    account: str
    amount: int


class TransferOut(BaseModel):
    id: str
    object: Literal["ledger_transfer"] = "ledger_transfer"
    kind: str
    code: str
    currency: str
    pending_id: str | None
    payment_id: str | None
    refund_id: str | None
    created_at: datetime
    legs: list[Leg]


class ListOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[Any]
    has_more: bool
    url: str


class ErrorBody(BaseModel):
    type: str
    code: str
    message: str
    param: str | None


class ErrorOut(BaseModel):
    error: ErrorBody
