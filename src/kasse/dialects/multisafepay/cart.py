"""Shopping carts as MultiSafepay computes them (pure): a line is ``unit_price x quantity`` (major units,
excluding tax) plus the tax of its ``tax_table_selector`` — the first rule of the alternate table of that
name in ``checkout_options.tax_tables``, else the default rate, none without a selector (the SDK's
local validator applies no table unless a default one is given; Kasse applies a named table whenever
the cart names it, as the SDK's own ``generate_from_shopping_cart`` builds tables without a default)
— and the cart's
total is rounded half up to the cent at the end (the SDK's ``util.total_amount``, which mirrors the API).

A refund by item (the SDK's ``refund_by_item``, the PHP SDK's ``refundByItem``) sends the whole cart
again with a negative line for what goes back (a negative ``unit_price``, or a negative ``quantity``):
the refund is what the cart's total went down by, and the cart sent becomes the order's cart."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = ["order_adjustment", "total_minor"]

_CENT = Decimal("0.01")


def _decimal(value: object) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


def _rate(item: dict[str, Any], checkout_options: dict[str, Any] | None) -> Decimal:
    selector = item.get("tax_table_selector")
    tables = (checkout_options or {}).get("tax_tables")
    if not selector or not isinstance(tables, dict):
        return Decimal(0)
    for table in tables.get("alternate") or []:
        if isinstance(table, dict) and table.get("name") == selector and table.get("rules"):
            return _decimal(table["rules"][0].get("rate"))
    default = tables.get("default")
    return _decimal(default.get("rate")) if isinstance(default, dict) else Decimal(0)


def _items(cart: dict[str, Any] | None) -> list[dict[str, Any]]:
    items = (cart or {}).get("items")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _totals(cart: dict[str, Any] | None, checkout_options: dict[str, Any] | None) -> tuple[Decimal, Decimal]:
    net = tax = Decimal(0)
    for item in _items(cart):
        line = _decimal(item.get("unit_price")) * _decimal(item.get("quantity"))
        net += line
        tax += line * _rate(item, checkout_options)
    return net, tax


def total_minor(cart: dict[str, Any] | None, checkout_options: dict[str, Any] | None) -> int:
    """The cart's total in cents, tax included."""
    net, tax = _totals(cart, checkout_options)
    return int(((net + tax).quantize(_CENT, rounding=ROUND_HALF_UP) * 100).to_integral_value())


def order_adjustment(cart: dict[str, Any] | None, checkout_options: dict[str, Any] | None) -> dict[str, float]:
    """``order_adjustment`` of an order with a cart: its tax and its negative lines (discounts)."""
    _, tax = _totals(cart, checkout_options)
    discounts = Decimal(0)
    for item in _items(cart):
        line = _decimal(item.get("unit_price")) * _decimal(item.get("quantity"))
        if line < 0:
            discounts += line * (1 + _rate(item, checkout_options))
    return {
        "total_adjustment": float(discounts.quantize(_CENT, rounding=ROUND_HALF_UP)),
        "total_tax": float(tax.quantize(_CENT, rounding=ROUND_HALF_UP)),
    }
