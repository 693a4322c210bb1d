"""What a shop reads to build its checkout: ``GET json/payment-methods`` (+ ``/{id}``) in the shape of
MultiSafepay's ``listPaymentMethods.json`` and ``GET json/gateways`` (+ ``/{id}``) as its gateway list
(``id``, ``description``), each with the one method Kasse offers, Sofort (``DIRECTBANK``). The
WooCommerce plugin (v6+) builds its checkout from the payment methods; the SDK's
``PaymentMethodManager`` and ``GatewayManager`` read them.

The filters MultiSafepay documents are applied: ``country``, ``currency`` and ``amount`` (cents) leave
Sofort out where it cannot be used, as MultiSafepay leaves out such methods. The icons are served by
Kasse itself (``/multisafepay/pay/static/sofort.svg``): nothing is fetched from MultiSafepay."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.multisafepay import errors as e
from kasse.dialects.multisafepay.routes import Merchant, MspRoute
from kasse.dialects.multisafepay.rules import RULES
from kasse.dialects.multisafepay.translate import GATEWAY
from kasse.domain.models import Method
from kasse.edge.json import JSONResponse
from kasse.edge.request import base_url

__all__ = ["gateway", "payment_method", "router"]

router = APIRouter(prefix="/multisafepay/v1", route_class=MspRoute, include_in_schema=False)

NAME = "Sofort"
DESCRIPTION = "SOFORT Banking"  # the gateway's name in MultiSafepay's gateway list
_COUNTRIES = sorted(RULES.countries[Method.SOFORT])
_CURRENCIES = sorted(RULES.currencies[Method.SOFORT])


def payment_method(base: str) -> dict[str, Any]:
    """Sofort as one entry of ``json/payment-methods`` (``listPaymentMethods.json``)."""
    icon = f"{base}/multisafepay/pay/static/sofort.svg"
    return {
        "additional_data": {},
        "allowed_amount": {"max": None, "min": RULES.min_amount_minor},
        "allowed_countries": _COUNTRIES,
        "allowed_currencies": _CURRENCIES,
        "apps": {
            "fastcheckout": {"is_enabled": False},
            "payment_components": {"has_fields": False, "is_enabled": False},
        },
        "brands": [],
        "icon_urls": {"large": icon, "medium": icon, "vector": icon},
        "id": GATEWAY,
        "name": NAME,
        "preferred_countries": _COUNTRIES,
        "required_customer_data": [],
        "shopping_cart_required": False,
        "tokenization": {"is_enabled": False, "models": None},
        "type": "payment-method",
    }


def gateway() -> dict[str, Any]:
    return {"id": GATEWAY, "description": DESCRIPTION}


def _offered(request: Request) -> bool:
    """Whether Sofort fits the ``country``, ``currency`` and ``amount`` filters of the request."""
    params = request.query_params
    country = (params.get("country") or "").upper()
    currency = (params.get("currency") or "").upper()
    amount = params.get("amount") or ""
    if country and country not in _COUNTRIES:
        return False
    if currency and currency not in _CURRENCIES:
        return False
    return not (amount.isdigit() and int(amount) < RULES.min_amount_minor)


def _one(code: str, entry: dict[str, Any]) -> Response:
    if code.upper() != GATEWAY:
        raise e.MspError(e.GATEWAY_UNAVAILABLE, e.titled(e.GATEWAY_UNAVAILABLE), 404)
    return JSONResponse({"success": True, "data": entry})


@router.get("/json/payment-methods")
def list_payment_methods(request: Request, who: Merchant) -> Response:
    data = [payment_method(base_url(request))] if _offered(request) else []
    return JSONResponse({"success": True, "data": data})


@router.get("/json/payment-methods/{code}")
def get_payment_method(request: Request, code: str, who: Merchant) -> Response:
    return _one(code, payment_method(base_url(request)))


@router.get("/json/gateways")
def list_gateways(request: Request, who: Merchant) -> Response:
    return JSONResponse({"success": True, "data": [gateway()] if _offered(request) else []})


@router.get("/json/gateways/{code}")
def get_gateway(code: str, who: Merchant) -> Response:
    return _one(code, gateway())
