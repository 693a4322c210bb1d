"""Events (``GET /v1/events``) in Stripe's shape; the deliveries themselves are the shared delivery
worker's (outbox rows written with each change), rendered and signed by ``notifications.py``. Also the
dialect's one sandbox switch: the Sofort failure rate."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from kasse.dialects.stripe.expand import expand_in
from kasse.dialects.stripe.fields import check_known
from kasse.dialects.stripe.listing import cursors, list_in
from kasse.dialects.stripe.loaders import ORIGIN
from kasse.dialects.stripe.notifications import event_out
from kasse.dialects.stripe.provider_events import PREFIX
from kasse.dialects.stripe.wire import MerchantId, Params, StripeRoute, stripe_list
from kasse.domain.errors import ErrorCode, InvalidRequest, NotFound
from kasse.edge.json import JSONResponse
from kasse.edge.request import base_url, kasse_of
from kasse.engine import merchants

__all__ = ["router", "sandbox_router"]

router = APIRouter(prefix="/stripe/v1", route_class=StripeRoute, include_in_schema=False)
sandbox_router = APIRouter(prefix="/stripe/_sandbox", route_class=StripeRoute, include_in_schema=False)

DIALECT = ORIGIN


# --- events -----------------------------------------------------------------------------------------


def _types(params: dict[str, Any]) -> list[str]:
    one, many = params.get("type"), params.get("types")
    if one is not None and many is not None:
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, "Give type or types, not both", param="types")
    chosen = [one] if one is not None else many if isinstance(many, list) else [many] if many is not None else ["*"]
    if not all(isinstance(t, str) and t for t in chosen):
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, "Invalid types: a list of event types", param="types")
    return [PREFIX + str(t) for t in chosen]


@router.get("/events")
def list_events(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    page_in = list_in(params, created=True, other=("type", "types", "delivery_success"))
    types = _types(params)
    if "delivery_success" in params:
        raise InvalidRequest(
            ErrorCode.PARAMETER_INVALID, "Kasse does not filter events by delivery_success", param="delivery_success"
        )
    expand_in(params, "list:event")  # events have no expandable fields: only checked
    with kasse_of(request).read() as store:

        def exists(event_id: str) -> str | None:
            found = store.get_event(merchant_id=merchant_id, event_id=event_id)
            return event_id if found is not None and found.type.startswith(PREFIX) else None

        after, before = cursors(page_in, "event", exists)
        page = store.list_events_of_types(
            merchant_id=merchant_id, patterns=types, limit=page_in.limit, starting_after=after,
            ending_before=before, created=page_in.created,
        )  # fmt: skip
    return stripe_list("/v1/events", [event_out(e, base_url(request)) for e in page.items], page.has_more)


@router.get("/events/{event_id}")
def get_event(request: Request, event_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    check_known(params, {"expand"})
    expand_in(params, "event")
    with kasse_of(request).read() as store:
        event = store.get_event(merchant_id=merchant_id, event_id=event_id)
    if event is None or not event.type.startswith(PREFIX):
        raise NotFound("event", event_id, param="id")
    return JSONResponse(event_out(event, base_url(request)))


# --- sandbox ----------------------------------------------------------------------------------------


def _rate_out(settings: dict[str, Any]) -> dict[str, Any]:
    rates = settings.get("failure_rates") or {}
    return {"object": "sandbox_settings", "sofort_failure_rate": float(rates.get(DIALECT, 0.0))}


@sandbox_router.get("/settings")
def get_settings(request: Request, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        return JSONResponse(_rate_out(store.merchant_settings(merchant_id=merchant_id)))


@sandbox_router.post("/settings")
def set_settings(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    """``sofort_failure_rate`` (0..1, default 0; Stripe quotes about 0.002): that share of charges fails at
    the 14-day cut-off, chosen deterministically from the source id."""
    check_known(params, {"sofort_failure_rate"})
    raw = params.get("sofort_failure_rate")
    try:
        rate = float(raw) if isinstance(raw, str) else -1.0
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise InvalidRequest(
            ErrorCode.PARAMETER_INVALID, "sofort_failure_rate must be between 0 and 1", param="sofort_failure_rate"
        )
    rates = kasse_of(request).run(
        merchant_id, merchants.update_setting, "failure_rates", lambda stored: {**(stored or {}), DIALECT: rate}
    )
    return JSONResponse(_rate_out({"failure_rates": rates}))
