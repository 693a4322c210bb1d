"""Events (``GET /v1/events``) and webhook endpoints (``/v1/webhook_endpoints``) in Stripe's shape. The
deliveries themselves are the shared delivery worker's (outbox rows written with each change), rendered
and signed by ``notifications.py``. Also the dialect's one sandbox switch: the Sofort failure rate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from kasse.dialects.stripe import schemas
from kasse.dialects.stripe import translate as out
from kasse.dialects.stripe.errors import StripeCode, StripeRefusal
from kasse.dialects.stripe.loaders import ORIGIN
from kasse.dialects.stripe.notifications import event_out
from kasse.dialects.stripe.provider_events import PREFIX
from kasse.dialects.stripe.wire import MerchantId, Params, StripeRoute, post, stripe_list
from kasse.domain.errors import ErrorCode, InvalidRequest, NotFound
from kasse.domain.webhooks import WebhookEndpoint
from kasse.edge.request import base_url, kasse_of, targets_of
from kasse.engine import merchants, webhooks
from kasse.engine.unit import Tx

__all__ = ["router", "sandbox_router"]

router = APIRouter(prefix="/stripe/v1", route_class=StripeRoute, include_in_schema=False)
sandbox_router = APIRouter(prefix="/stripe/_sandbox", route_class=StripeRoute, include_in_schema=False)

DIALECT = ORIGIN


# --- events -----------------------------------------------------------------------------------------


def _created(params: dict[str, Any]) -> dict[str, datetime]:
    value = params.get("created")
    if value is None:
        return {}
    items = {"eq": value} if isinstance(value, str) else value
    if not isinstance(items, dict):
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, "Invalid created: an integer or a hash", param="created")
    out_: dict[str, datetime] = {}
    for op, raw in items.items():
        param = "created" if op == "eq" else f"created[{op}]"
        if op not in ("eq", "gt", "gte", "lt", "lte"):
            raise InvalidRequest(ErrorCode.PARAMETER_UNKNOWN, f"Received unknown parameter: created[{op}]", param=param)
        if not isinstance(raw, str) or not raw.isdigit():
            raise StripeRefusal(StripeCode.PARAMETER_INVALID_INTEGER, f"Invalid integer: {raw}", param=param)
        moment = datetime.fromtimestamp(int(raw), tz=UTC)
        if op == "eq":
            out_["gte"] = moment
            out_["lt"] = datetime.fromtimestamp(int(raw) + 1, tz=UTC)
        else:
            out_[op] = moment
    return out_


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
    page_in = schemas.list_in(params)
    with kasse_of(request).read() as store:
        page = store.list_events_of_types(
            merchant_id=merchant_id, patterns=_types(params), limit=page_in.limit,
            starting_after=page_in.starting_after, ending_before=page_in.ending_before, created=_created(params),
        )  # fmt: skip
    return stripe_list("/v1/events", [event_out(e, base_url(request)) for e in page.items], page.has_more)


@router.get("/events/{event_id}")
def get_event(request: Request, event_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        event = store.get_event(merchant_id=merchant_id, event_id=event_id)
    if event is None or not event.type.startswith(PREFIX):
        raise NotFound("event", event_id, param="id")
    return JSONResponse(event_out(event, base_url(request)))


# --- webhook endpoints ------------------------------------------------------------------------------


def _endpoint(tx: Tx, endpoint_id: str) -> WebhookEndpoint:
    endpoint = tx.store.get_endpoint(merchant_id=tx.merchant_id, endpoint_id=endpoint_id, for_update=True)
    if endpoint is None or endpoint.dialect != DIALECT:
        raise NotFound("webhook_endpoint", endpoint_id, param="id")
    return endpoint


@router.post("/webhook_endpoints")
def create_endpoint(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    raw_url, events, description = schemas.endpoint_in(params, creating=True)
    assert raw_url is not None and events is not None
    url = targets_of(request).vet(raw_url, param="url")

    def operation(tx: Tx) -> dict[str, Any]:
        endpoint = webhooks.create_endpoint(
            tx, url=url, enabled_events=events, description=description, dialect=DIALECT
        )
        return out.endpoint_out(endpoint, with_secret=True)

    return post(request, merchant_id, params, operation)


@router.get("/webhook_endpoints")
def list_endpoints(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    page_in = schemas.list_in(params)
    with kasse_of(request).read() as store:
        found = store.list_endpoints(merchant_id=merchant_id, limit=100).items
    mine = [out.endpoint_out(e) for e in found if e.dialect == DIALECT]
    return stripe_list("/v1/webhook_endpoints", mine[: page_in.limit], len(mine) > page_in.limit)


@router.get("/webhook_endpoints/{endpoint_id}")
def get_endpoint(request: Request, endpoint_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        endpoint = store.get_endpoint(merchant_id=merchant_id, endpoint_id=endpoint_id)
    if endpoint is None or endpoint.dialect != DIALECT:
        raise NotFound("webhook_endpoint", endpoint_id, param="id")
    return JSONResponse(out.endpoint_out(endpoint))


@router.post("/webhook_endpoints/{endpoint_id}")
def update_endpoint(request: Request, endpoint_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    raw_url, events, description = schemas.endpoint_in(params, creating=False)
    url = None if raw_url is None else targets_of(request).vet(raw_url, param="url")
    disabled = params.get("disabled")
    if disabled not in (None, "true", "false"):
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, "Invalid boolean: disabled", param="disabled")

    def operation(tx: Tx) -> dict[str, Any]:
        _endpoint(tx, endpoint_id)
        change = webhooks.EndpointChange(
            url=url, enabled_events=events, description=description,
            disabled=None if disabled is None else disabled == "true",
        )  # fmt: skip
        return out.endpoint_out(webhooks.update_endpoint(tx, endpoint_id, change))

    return post(request, merchant_id, params, operation)


@router.delete("/webhook_endpoints/{endpoint_id}")
def delete_endpoint(request: Request, endpoint_id: str, merchant_id: MerchantId) -> JSONResponse:

    def delete(tx: Tx) -> None:
        _endpoint(tx, endpoint_id)
        webhooks.delete_endpoint(tx, endpoint_id)

    kasse_of(request).run(merchant_id, delete)
    return JSONResponse({"id": endpoint_id, "object": "webhook_endpoint", "deleted": True})


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
    schemas.check_known(params, {"sofort_failure_rate"})
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
