"""Native webhook endpoints, deliveries and replays at ``/api/v1``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.requests import Request

from kasse.dialects.native.auth import merchant_from_bearer
from kasse.dialects.native.errors import ERROR_RESPONSES
from kasse.dialects.native.numbers import INTEGRAL, Boolean, Number
from kasse.dialects.native.origin import ORIGIN
from kasse.dialects.native.schemas import ListOut, Url
from kasse.dialects.native.translate import endpoint_out
from kasse.dialects.native.validation import require_json
from kasse.domain.errors import ErrorCode, InvalidRequest, NotFound
from kasse.domain.events import EventType
from kasse.domain.webhooks import Delivery, DeliverySettings
from kasse.edge.json import JSONResponse
from kasse.edge.request import deliverer_of, kasse_of, targets_of
from kasse.engine import merchants, webhooks

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES, dependencies=[Depends(require_json)], tags=["webhooks"])
MerchantId = Annotated[str, Depends(merchant_from_bearer)]

_KNOWN = sorted(e.value for e in EventType)
EventPattern = Annotated[str, Field(max_length=60, pattern=r"^(\*|[a-z_]+\.\*|[a-z_]+(\.[a-z_-]+)+)$")]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url
    enabled_events: Annotated[list[EventPattern], Field(min_length=1, max_length=50)] = ["*"]
    description: Annotated[str, Field(max_length=500)] | None = None


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url | None = None
    enabled_events: Annotated[list[EventPattern], Field(min_length=1, max_length=50)] | None = None
    description: Annotated[str, Field(max_length=500)] | None = None
    disabled: Boolean | None = None


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def delivery_out(d: Delivery, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": d.id,
        "object": "delivery",
        "event_id": d.event_id,
        "endpoint_id": d.endpoint_id,
        "status": d.status.value,
        "attempt_count": d.attempts,
        "next_attempt_at": _ts(d.next_attempt_at),
        "last_response_status": d.last_response_status,
        "created_at": _ts(d.created_at),
        "attempts": [
            {
                "number": a["number"], "trigger": a["trigger"], "url": a["url"], "attempted_at": _ts(a["attempted_at"]),
                "request": {"headers": a["request_headers"], "body": a["request_body"]},
                "response": {"status": a["response_status"], "body": a["response_body"]},
                "latency_ms": a["latency_ms"], "error": a["error"], "succeeded": a["succeeded"],
            }
            for a in attempts
        ],
    }  # fmt: skip


@router.post("/webhook_endpoints", status_code=201)
def create_endpoint(request: Request, body: EndpointIn, merchant_id: MerchantId) -> JSONResponse:
    """Register a URL for this merchant's events (`*`, a family like `payment.*`, or exact types). The answer
    carries the Standard Webhooks signing secret (`whsec_…`)."""
    unknown = [p for p in body.enabled_events if "*" not in p and p not in _KNOWN]
    if unknown:
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Unknown event type {unknown[0]!r}", param="enabled_events")
    url = targets_of(request).vet(body.url, param="url")
    endpoint = kasse_of(request).run(
        merchant_id,
        webhooks.create_endpoint,
        url=url,
        enabled_events=body.enabled_events,
        description=body.description,
        dialect=ORIGIN,
    )
    return JSONResponse(endpoint_out(endpoint, with_secret=True), status_code=201)


@router.get("/webhook_endpoints", response_model=ListOut)
def list_endpoints(request: Request, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        page = store.list_endpoints(merchant_id=merchant_id)
    data = [endpoint_out(e) for e in page.items]
    return JSONResponse({"object": "list", "data": data, "has_more": page.has_more, "url": request.url.path})


@router.get("/webhook_endpoints/{endpoint_id}")
def get_endpoint(request: Request, endpoint_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        endpoint = store.get_endpoint(merchant_id=merchant_id, endpoint_id=endpoint_id)
    if endpoint is None:
        raise NotFound("webhook endpoint", endpoint_id, param="id")
    return JSONResponse(endpoint_out(endpoint))


@router.post("/webhook_endpoints/{endpoint_id}")
def update_endpoint(request: Request, endpoint_id: str, body: EndpointUpdate, merchant_id: MerchantId) -> JSONResponse:
    """Change the URL, events or description; `disabled: true` stops deliveries, `false` resumes them."""
    url = None if body.url is None else targets_of(request).vet(body.url, param="url")
    change = webhooks.EndpointChange(url, body.enabled_events, body.description, body.disabled)
    endpoint = kasse_of(request).run(merchant_id, webhooks.update_endpoint, endpoint_id, change)
    return JSONResponse(endpoint_out(endpoint))


@router.delete("/webhook_endpoints/{endpoint_id}")
def delete_endpoint(request: Request, endpoint_id: str, merchant_id: MerchantId) -> JSONResponse:
    kasse_of(request).run(merchant_id, webhooks.delete_endpoint, endpoint_id)
    return JSONResponse({"id": endpoint_id, "object": "webhook_endpoint", "deleted": True})


@router.post("/webhook_endpoints/{endpoint_id}/rotate_secret")
def rotate_secret(request: Request, endpoint_id: str, merchant_id: MerchantId) -> JSONResponse:
    endpoint = kasse_of(request).run(merchant_id, webhooks.rotate_secret, endpoint_id)
    return JSONResponse(endpoint_out(endpoint, with_secret=True))


@router.get("/events/{event_id}/deliveries", response_model=ListOut)
def event_deliveries(request: Request, event_id: str, merchant_id: MerchantId) -> JSONResponse:
    """Every delivery of an event, with every attempt: request, response, latency, error."""
    with kasse_of(request).read() as store:
        if store.get_event(merchant_id=merchant_id, event_id=event_id) is None:
            raise NotFound("event", event_id, param="id")
        items = store.deliveries_of_event(merchant_id=merchant_id, event_id=event_id)
        data = [delivery_out(d, store.attempts_of(merchant_id=merchant_id, delivery_id=d.id)) for d in items]
    return JSONResponse({"object": "list", "data": data, "has_more": False, "url": request.url.path})


@router.post("/deliveries/{delivery_id}/retry")
def retry_delivery(
    request: Request, delivery_id: str, merchant_id: MerchantId, _body: Annotated[dict[str, Any] | None, Body()] = None
) -> JSONResponse:
    """Send a delivery again now, whatever its state; recorded as a new (manual) attempt."""
    deliverer = deliverer_of(request)
    delivery = kasse_of(request).run(merchant_id, webhooks.get_delivery, delivery_id)
    deliverer.attempt(delivery, trigger="manual")
    with kasse_of(request).read() as store:
        current = store.get_delivery(merchant_id=merchant_id, delivery_id=delivery_id)
        assert current is not None
        attempts = store.attempts_of(merchant_id=merchant_id, delivery_id=delivery_id)
    return JSONResponse(delivery_out(current, attempts))


RetryDelay = Annotated[StrictInt, Field(ge=1, le=7 * 86_400), INTEGRAL]


class WebhookSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout_seconds: Annotated[Number, Field(ge=0.5, le=60)] | None = None
    retry_schedule: Annotated[list[RetryDelay], Field(min_length=0, max_length=20)] | None = None


def _settings_out(settings: DeliverySettings) -> dict[str, Any]:
    return {
        "object": "webhook_settings",
        "timeout_seconds": settings.timeout_s,
        "retry_schedule": list(settings.retry_schedule_s),
    }


@router.get("/webhook_settings")
def get_webhook_settings(request: Request, merchant_id: MerchantId) -> JSONResponse:
    """How this merchant's deliveries are sent: the timeout of each attempt and the gaps between retries."""
    with kasse_of(request).read() as store:
        settings = store.merchant_settings(merchant_id=merchant_id)
    return JSONResponse(_settings_out(DeliverySettings.from_dict(settings.get("webhooks"))))


@router.post("/webhook_settings")
def set_webhook_settings(request: Request, body: WebhookSettingsIn, merchant_id: MerchantId) -> JSONResponse:
    """`retry_schedule`: seconds before attempt 2, 3, … (default 1 min … 24 h, about three days in all);
    an empty list means a single attempt."""

    def change(stored: Any) -> dict[str, Any]:
        current = DeliverySettings.from_dict(stored)
        timeout_s = body.timeout_seconds if body.timeout_seconds is not None else current.timeout_s
        schedule = tuple(body.retry_schedule) if body.retry_schedule is not None else current.retry_schedule_s
        return DeliverySettings(timeout_s=timeout_s, retry_schedule_s=schedule).as_dict()

    updated = kasse_of(request).run(merchant_id, merchants.update_setting, "webhooks", change)
    return JSONResponse(_settings_out(DeliverySettings.from_dict(updated)))
