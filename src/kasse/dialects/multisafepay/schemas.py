"""Wire models of the Orders API in MultiSafepay's own words (what the SDK's ``OrderRequest``,
``RefundOrderRequest`` and ``UpdateOrderRequest`` send). Unknown fields are ignored, as MultiSafepay
ignores fields a payment method does not use (plugin info, Google Analytics, ...); the shopping cart,
checkout options and order adjustment are kept and returned with the order.

Numbers are read as MultiSafepay reads them: an ``amount`` of ``1000``, ``1000.0`` or ``"1000"`` is 1000
cents (older official wrappers send floats and strings), a fraction of a cent is refused; an
``order_id`` or ``var1..3`` sent as a JSON number is its decimal text."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
)

from kasse.dialects.multisafepay import errors as e
from kasse.domain.urls import require_http_url

__all__ = ["CustomerIn", "OrderIn", "PaymentOptionsIn", "RefundIn", "UpdateIn", "parse"]

Text = Annotated[str, Field(max_length=1000)]

Url = Annotated[str, AfterValidator(require_http_url)]
M = TypeVar("M", bound=BaseModel)


_DIGITS = 18


def _whole_cents(value: object) -> object:
    """``1000``, ``1000.0`` and ``"1000"`` are 1000; anything else is left for the strict check to refuse."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 10**_DIGITS:
        return int(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return value
        # Bounded before int(): "1e999999999" must not become a billion-digit number.
        if number.is_finite() and number.adjusted() < _DIGITS and number == number.to_integral_value():
            return int(number)
    return value


def _number_as_text(value: object) -> object:
    """A JSON number where text is expected (``"order_id": 12345``) is its decimal text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


Cents = Annotated[StrictInt, BeforeValidator(_whole_cents)]  # any whole number: cents, days, seconds
Var = Annotated[str, BeforeValidator(_number_as_text), Field(max_length=100)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PaymentOptionsIn(_In):
    notification_url: Url | None = None
    notification_method: Literal["POST", "GET", "post", "get"] | None = None
    redirect_url: Url | None = None
    cancel_url: Url | None = None
    close_window: bool | None = None


class CustomerIn(_In):
    first_name: Text | None = None
    last_name: Text | None = None
    address1: Text | None = None
    address2: Text | None = None
    house_number: Text | None = None
    zip_code: Text | None = None
    city: Text | None = None
    state: Text | None = None
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = None
    phone: Text | None = None
    email: Text | None = None
    locale: Annotated[str, Field(max_length=10)] | None = None
    ip_address: Text | None = None
    forwarded_ip: Text | None = None
    referrer: Text | None = None
    user_agent: Text | None = None
    reference: Text | None = None


class GatewayInfoIn(_In):
    """Sofort direct (``sofort-direct.json``): the payer's account, optional in the sandbox."""

    account_id: Text | None = None
    account_holder_name: Text | None = None
    account_holder_city: Text | None = None
    account_holder_country: Text | None = None
    account_holder_iban: Text | None = None
    account_holder_bic: Text | None = None


class CartItemIn(BaseModel):
    """A cart line (``shopping_cart.items[]``): kept as sent; its price and quantity must be numbers."""

    model_config = ConfigDict(extra="allow")
    unit_price: Annotated[Decimal, Field(gt=-(10**9), lt=10**9)]
    quantity: Annotated[Decimal, Field(gt=-(10**6), lt=10**6)]
    merchant_item_id: Annotated[str, BeforeValidator(_number_as_text)] | None = None
    tax_table_selector: str | None = None


class CartIn(_In):
    items: Annotated[list[CartItemIn], Field(max_length=500)]


class OrderIn(_In):
    type: Annotated[str, Field(max_length=20)]
    gateway: Annotated[str, Field(max_length=40)] | None = None
    order_id: Annotated[str, BeforeValidator(_number_as_text), Field(min_length=1, max_length=50)]
    currency: Annotated[str, Field(max_length=3)]
    amount: Cents
    description: Annotated[str, Field(min_length=1, max_length=200)]
    payment_options: PaymentOptionsIn | None = None
    customer: CustomerIn | None = None
    gateway_info: GatewayInfoIn | None = None
    days_active: Annotated[Cents, Field(ge=1, le=365)] | None = None  # "30" too, as older wrappers send it
    seconds_active: Annotated[Cents, Field(ge=1, le=365 * 86_400)] | None = None
    var1: Var | None = None
    var2: Var | None = None
    var3: Var | None = None
    custom_info: dict[str, Any] | None = None
    shopping_cart: CartIn | None = None
    checkout_options: dict[str, Any] | None = None
    order_adjustment: dict[str, Any] | None = None


class RefundIn(_In):
    amount: Cents | None = None  # none (or 0): the whole rest
    currency: Annotated[str, Field(max_length=3)] | None = None
    description: Annotated[str, Field(max_length=200)] | None = None
    checkout_data: CartIn | None = None  # a refund by item: the cart as it is to be afterwards


class UpdateIn(_In):
    status: Annotated[str, Field(max_length=20)] | None = None
    extend_expiration: StrictBool | None = None
    reason: Annotated[str, Field(max_length=200)] | None = None


# Which MultiSafepay error a field's validation error is (Error reference); anything else is 1016.
_FIELD_CODES = {
    "amount": e.INVALID_AMOUNT,
    "currency": e.INVALID_CURRENCY,
    "order_id": e.INVALID_ORDER_ID,
    "description": e.INVALID_DESCRIPTION,
    "var1": e.INVALID_VARIABLE,
    "var2": e.INVALID_VARIABLE,
    "var3": e.INVALID_VARIABLE,
    "country": e.INVALID_COUNTRY,
    "unit_price": e.INCORRECT_ITEM_PRICE,
}


def parse(model: type[M], payload: Any) -> M:
    """Validate a decoded body; the first problem becomes MultiSafepay's error for that field."""
    if not isinstance(payload, dict):
        raise e.MspError(e.MISSING_DATA, "Missing data: the body must be a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        field = str(first["loc"][-1]) if first["loc"] else ""
        code = _FIELD_CODES.get(field, e.MISSING_DATA)
        if first["type"] == "missing":
            code = e.MISSING_DATA if field != "description" else e.INVALID_DESCRIPTION
        raise e.MspError(code, f"Invalid {path}: {first['msg']}") from None
