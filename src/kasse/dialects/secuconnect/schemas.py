"""Wire models in secuconnect's own words: the token request (JSON or form-encoded), the Smart Transaction
of pretix-secuconnect and the PHP SDK (``SmartTransactionsDTO``), the custom checkout's ``prepare`` body
(``SmartTransactionsPrepare``) and the payment transaction's ``cancel`` (``reduce_amount_by``).

Fields secuconnect defines but Sofort does not use (shipping, subscriptions, loyalty idents, ...) are
ignored, as secuconnect ignores what a payment method does not need; a known field of the wrong type or
size is refused in secuconnect's error shape, naming the field."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from kasse.dialects.secuconnect import errors as e
from kasse.domain.urls import require_http_url

__all__ = ["CancelIn", "PrepareIn", "SmartTransactionIn", "TokenIn", "parse"]

M = TypeVar("M", bound=BaseModel)
Text = Annotated[str, Field(max_length=255)]
Url = Annotated[str, Field(max_length=2048), AfterValidator(require_http_url)]
# An object secuconnect keeps and shows as given (contract, customer, basket): bounded in size.
MAX_OBJECT_CHARS = 20_000


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, default=str)) > MAX_OBJECT_CHARS:
        raise ValueError(f"must be at most {MAX_OBJECT_CHARS} characters as JSON")
    return value


Obj = Annotated[dict[str, Any], AfterValidator(_bounded)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TokenIn(_In):
    grant_type: Annotated[str, Field(max_length=40)]
    client_id: Annotated[str, Field(min_length=1, max_length=200)]
    client_secret: Annotated[str, Field(min_length=1, max_length=200)]


class ReturnUrlsIn(_In):
    url_success: Url | None = None
    url_error: Url | None = None
    url_abort: Url | None = None
    url_push: Url | None = None


class ApplicationContextIn(_In):
    return_urls: ReturnUrlsIn | None = None
    checkout_template: Text | None = None
    language: Annotated[str, Field(max_length=10)] | None = None


class BasketInfoIn(_In):
    sum: Annotated[StrictInt, Field(ge=1)]
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]


class PaymentContextIn(_In):
    auto_capture: StrictBool | None = None  # Sofort is captured with the authorization either way (seed)


class SmartTransactionIn(_In):
    is_demo: StrictBool | None = None
    contract: Obj | None = None
    customer: Obj | None = None
    intent: Literal["sale", "order"] = "sale"
    basket: Obj | None = None
    basket_info: BasketInfoIn
    merchantRef: Text | None = None  # secuconnect's spelling
    transactionRef: Text | None = None
    application_context: ApplicationContextIn | None = None
    payment_context: PaymentContextIn | None = None


def _optional_url(value: str) -> str:
    """The seed's example sends ``""``: no URL of its own, the Smart Transaction's return URLs apply."""
    return value if value == "" else require_http_url(value)


class CallbackUrlsIn(_In):
    success_url: Annotated[str, Field(max_length=2048), AfterValidator(_optional_url)] | None = None
    failure_url: Annotated[str, Field(max_length=2048), AfterValidator(_optional_url)] | None = None


class PrepareIn(_In):
    callback_urls: CallbackUrlsIn | None = None
    customer: Obj | None = None
    container: Obj | None = None
    dynamic_descriptor: Text | None = None
    email: Text | None = None


class CancelIn(_In):
    reduce_amount_by: Annotated[StrictInt, Field(ge=1)] | None = None
    amount: Annotated[StrictInt, Field(ge=1)] | None = None  # deprecated alias of reduce_amount_by
    # Cancel_or_Refund_a_Payment: up to 100 of A-Z a-z 0-9 space and .,+-:?()/'
    reason: Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9 .,+\-:?()/']*$")] | None = None


def parse(model: type[M], payload: Any) -> M:
    """Validate a decoded body; the first problem becomes secuconnect's error naming the field."""
    if not isinstance(payload, dict):
        raise e.SecuError(e.INVALID, "The request body must be a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"]) or "body"
        if first["type"] == "missing":
            raise e.SecuError(e.MISSING, f"Missing parameter: {path}") from None
        raise e.SecuError(e.INVALID, f"Invalid parameter {path}: {first['msg']}") from None
