"""Wire models in Klarna's own words (Payment API v2, with the v1 names accepted as aliases), and the
decoder that turns every problem into one ``INPUT_ERROR`` naming each parameter. Unknown top-level
fields are refused; the contents of ``supplementary_purchase_data`` (line items, shipping, customer) are
Klarna's open vocabulary and only checked for size and type."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, StrictInt, ValidationError

from kasse.dialects.klarna.errors import BAD_INPUT, KlarnaError, Violation
from kasse.domain.urls import require_http_url

__all__ = [
    "AuthorizeIn",
    "CaptureIn",
    "InteractionConfig",
    "PaymentRequestIn",
    "RefundIn",
    "WebhookIn",
    "WebhookPatch",
    "WireModel",
    "parse",
    "seconds_of",
]

M = TypeVar("M", bound=BaseModel)
Ref = Annotated[str, Field(min_length=1, max_length=255)]
Url = Annotated[str, Field(max_length=2048), AfterValidator(require_http_url)]
Amount = Annotated[StrictInt, Field(ge=0, le=2_147_483_647)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
Open = dict[str, Any]

MIN_EXPIRY_S, MAX_EXPIRY_S = 15 * 60, 48 * 3_600  # interaction_expiry: 15 minutes to 48 hours
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


class WireModel(BaseModel):
    """Every Klarna body: unknown fields refused, names or aliases accepted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PurchaseData(WireModel):
    purchase_reference: Ref | None = None
    line_items: Annotated[list[Open], Field(max_length=1000)] | None = None
    shipping: Annotated[list[Open], Field(max_length=100)] | None = None
    customer: Open | None = None
    billing_address: Open | None = None
    subscriptions: Annotated[list[Open], Field(max_length=100)] | None = None
    ondemand_service: Open | None = None


class InteractionExpiry(WireModel):
    duration: Annotated[str, Field(max_length=40)] | None = None  # ISO 8601, "PT15M"
    expires_at: datetime | None = None  # the absolute form (its key is Kasse's choice)


class InteractionConfig(WireModel):
    method: Literal["HANDOVER"] = "HANDOVER"
    return_url: Url | None = None
    app_return_url: Annotated[str, Field(max_length=2048)] | None = None
    interaction_expiry: InteractionExpiry | None = None


class CustomerTokenRequest(WireModel):
    scopes: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=10)] | None = None
    customer_token_reference: Ref | None = None


class PaymentRequestIn(WireModel):
    currency: Currency
    amount: Amount | None = Field(default=None, validation_alias=AliasChoices("amount", "payment_amount"))
    payment_request_reference: Ref | None = None
    payment_reference: Ref | None = None  # v1
    merchant_reference: Annotated[str, Field(min_length=1, max_length=256)] | None = None  # v1
    payment_option_id: Ref | None = None
    supplementary_purchase_data: PurchaseData | None = None
    customer_interaction_config: InteractionConfig | None = None
    config: InteractionConfig | None = None  # v1 name of customer_interaction_config
    request_customer_token: CustomerTokenRequest | None = None


class PaymentRequestUpdate(WireModel):
    currency: Currency | None = None
    amount: Amount | None = Field(default=None, validation_alias=AliasChoices("amount", "payment_amount"))
    payment_request_reference: Ref | None = None
    payment_reference: Ref | None = None
    merchant_reference: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    payment_option_id: Ref | None = None
    supplementary_purchase_data: PurchaseData | None = None
    customer_interaction_config: InteractionConfig | None = None
    config: InteractionConfig | None = None
    request_customer_token: CustomerTokenRequest | None = None


class TransactionRequest(WireModel):
    amount: Amount
    payment_transaction_reference: Ref | None = None
    payment_option_id: Ref | None = None
    capture: Literal["NOW", "LATER"] = "LATER"


class StepUpConfig(WireModel):
    payment_request_reference: Ref | None = None
    customer_interaction_config: InteractionConfig | None = None


class AuthorizeIn(WireModel):
    currency: Currency
    request_payment_transaction: TransactionRequest | None = None
    supplementary_purchase_data: PurchaseData | None = None
    step_up_config: StepUpConfig | None = None
    request_customer_token: CustomerTokenRequest | None = None
    payment_request_id: Ref | None = None


class CaptureIn(WireModel):
    amount: Amount
    payment_capture_reference: Ref | None = None
    line_items: Annotated[list[Open], Field(max_length=1000)] | None = None
    shipping_info: Annotated[list[Open], Field(max_length=100)] | None = None


class RefundIn(WireModel):
    amount: Amount
    payment_refund_reference: Ref | None = None
    line_items: Annotated[list[Open], Field(max_length=1000)] | None = None


EventType = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z*][a-z.*-]*$")]


class WebhookIn(WireModel):
    url: Url
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=50)]
    event_version: Literal["v1", "v2"] = "v2"
    signing_key_id: Ref
    status: Literal["ENABLED", "DISABLED"] = "ENABLED"


class WebhookPatch(WireModel):
    url: Url | None = None
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=50)] | None = None
    event_version: Literal["v1", "v2"] | None = None
    signing_key_id: Ref | None = None
    status: Literal["ENABLED", "DISABLED"] | None = None


class SimulateIn(WireModel):
    event_type: EventType
    event_version: Literal["v1", "v2"] | None = None


def seconds_of(expiry: InteractionExpiry, now: datetime) -> int:
    """The customer's window in seconds; Klarna allows 15 minutes to 48 hours."""
    if expiry.duration is not None:
        match = _DURATION.fullmatch(expiry.duration)
        if match is None or not any(match.groups()):
            raise KlarnaError.invalid(
                "customer_interaction_config.interaction_expiry.duration", "not an ISO 8601 duration"
            )
        days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
        total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    elif expiry.expires_at is not None:
        if expiry.expires_at.tzinfo is None:
            raise KlarnaError.invalid("customer_interaction_config.interaction_expiry.expires_at", "needs a time zone")
        total = int((expiry.expires_at - now).total_seconds())
    else:
        raise KlarnaError.invalid("customer_interaction_config.interaction_expiry", "give duration or expires_at")
    if not MIN_EXPIRY_S <= total <= MAX_EXPIRY_S:
        raise KlarnaError.invalid("customer_interaction_config.interaction_expiry", "must be 15 minutes to 48 hours")
    return total


def parse(model: type[M], payload: Any) -> M:
    """Validate a decoded body; every problem is one validation error naming its parameter."""
    if not isinstance(payload, dict):
        raise KlarnaError(BAD_INPUT, "The request body must be a JSON object", [Violation("body", "not an object")])
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        violations = [
            Violation(
                ".".join(str(p) for p in err["loc"]) or "body",
                "unknown parameter" if err["type"] == "extra_forbidden" else str(err["msg"]),
            )
            for err in exc.errors()
        ]
        names = ", ".join(v.parameter for v in violations)
        raise KlarnaError(BAD_INPUT, f"Invalid request: {names}", violations) from None
