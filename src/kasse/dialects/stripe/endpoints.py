"""Webhook endpoints (``/v1/webhook_endpoints``) in Stripe's shape: every event type of Stripe's
``enabled_events`` enumeration is accepted (``catalog.py``), Kasse delivers the ones it emits; the
endpoint's ``api_version`` and ``metadata`` are kept (``stripe_endpoints``) and answered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from kasse.dialects.stripe.catalog import EVENT_TYPES, known_version
from kasse.dialects.stripe.expand import expand_in
from kasse.dialects.stripe.fields import check_known, invalid, metadata_in, missing, string, url
from kasse.dialects.stripe.listing import cursors, list_in
from kasse.dialects.stripe.loaders import ORIGIN
from kasse.dialects.stripe.translate import ts
from kasse.dialects.stripe.wire import MerchantId, Params, StripeRoute, post, stripe_list
from kasse.domain.errors import ErrorCode as E
from kasse.domain.errors import NotFound
from kasse.domain.webhooks import EndpointStatus, WebhookEndpoint
from kasse.edge.json import JSONResponse
from kasse.edge.request import kasse_of, targets_of
from kasse.engine import webhooks
from kasse.engine.unit import Tx
from kasse.storage.store import Store

__all__ = ["EndpointIn", "endpoint_in", "endpoint_out", "router"]

router = APIRouter(prefix="/stripe/v1", route_class=StripeRoute, include_in_schema=False)
_PARAMS = {"url", "enabled_events", "description", "api_version", "metadata", "connect", "disabled", "expand"}


@dataclass(frozen=True)
class EndpointIn:
    url: str | None
    enabled_events: list[str] | None
    description: str | None
    api_version: str | None
    metadata: dict[str, str | None]
    disabled: bool | None


def _events(params: dict[str, Any], creating: bool) -> list[str] | None:
    events = params.get("enabled_events")
    if events is None or events == "":
        if creating:
            raise missing("enabled_events")
        return None
    events = events if isinstance(events, list) else [events]
    for index, name in enumerate(events):
        if name != "*" and name not in EVENT_TYPES:
            raise invalid(E.PARAMETER_INVALID, f"Invalid enabled_events[{index}]: {name}", f"enabled_events[{index}]")
    return [str(e) for e in events]


def endpoint_in(params: dict[str, Any], *, creating: bool) -> EndpointIn:
    check_known(params, _PARAMS - {"disabled"} if creating else _PARAMS - {"api_version", "connect"})
    address = url(params, "url")
    if creating and not address:
        raise missing("url")
    if params.get("connect") not in (None, "false"):
        raise invalid(E.PARAMETER_INVALID, "Kasse has no Connect accounts: connect must be false", "connect")
    version = string(params, "api_version", max_length=40)
    if version is not None and known_version(version) is None:
        raise invalid(E.PARAMETER_INVALID, f"Invalid api_version: {version}", "api_version")
    disabled = params.get("disabled")
    if disabled not in (None, "true", "false"):
        raise invalid(E.PARAMETER_INVALID, "Invalid boolean: disabled", "disabled")
    return EndpointIn(
        address, _events(params, creating), string(params, "description"),
        known_version(version) if version else None, metadata_in(params),
        None if disabled is None else disabled == "true",
    )  # fmt: skip


def endpoint_out(
    e: WebhookEndpoint, *, api_version: str | None, metadata: dict[str, Any], with_secret: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": e.id,
        "object": "webhook_endpoint",
        "api_version": api_version,
        "application": None,
        "created": ts(e.created_at),
        "description": e.description,
        "enabled_events": list(e.enabled_events),
        "livemode": False,
        "metadata": dict(metadata),
        "status": "enabled" if e.status is EndpointStatus.ENABLED else "disabled",
        "url": e.url,
    }
    if with_secret:
        out["secret"] = e.secret
    return out


def _out(store: Store, endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    version, metadata = store.stripe_endpoint(merchant_id=endpoint.merchant_id, endpoint_id=endpoint.id)
    return endpoint_out(endpoint, api_version=version, metadata=metadata, with_secret=with_secret)


def _mine(store: Store, merchant_id: str, endpoint_id: str, *, for_update: bool = False) -> WebhookEndpoint:
    endpoint = store.get_endpoint(merchant_id=merchant_id, endpoint_id=endpoint_id, for_update=for_update)
    if endpoint is None or endpoint.dialect != ORIGIN:
        raise NotFound("webhook_endpoint", endpoint_id, param="id")
    return endpoint


@router.post("/webhook_endpoints")
def create_endpoint(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    body = endpoint_in(params, creating=True)
    expand_in(params, "webhook_endpoint")
    assert body.url is not None and body.enabled_events is not None
    checked = targets_of(request).vet(body.url, param="url")

    def operation(tx: Tx) -> dict[str, Any]:
        endpoint = webhooks.create_endpoint(
            tx, url=checked, enabled_events=body.enabled_events or [], description=body.description, dialect=ORIGIN
        )
        metadata = {k: v for k, v in body.metadata.items() if v is not None}
        tx.store.put_stripe_endpoint(
            merchant_id=tx.merchant_id, endpoint_id=endpoint.id, api_version=body.api_version, metadata=metadata
        )
        return _out(tx.store, endpoint, with_secret=True)

    return post(request, merchant_id, params, operation)


@router.get("/webhook_endpoints")
def list_endpoints(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    page_in = list_in(params)
    expand_in(params, "list:webhook_endpoint")
    with kasse_of(request).read() as store:
        found = [e for e in store.list_endpoints(merchant_id=merchant_id, limit=100).items if e.dialect == ORIGIN]
        ids = [e.id for e in found]
        after, before = cursors(page_in, "webhook endpoint", lambda i: i if i in ids else None)
        if after is not None:
            found = found[ids.index(after) + 1 :]
        elif before is not None:
            found = found[max(ids.index(before) - page_in.limit, 0) : ids.index(before)]
        mine = [_out(store, e) for e in found]
    return stripe_list("/v1/webhook_endpoints", mine[: page_in.limit], len(mine) > page_in.limit)


@router.get("/webhook_endpoints/{endpoint_id}")
def get_endpoint(request: Request, endpoint_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    check_known(params, {"expand"})
    expand_in(params, "webhook_endpoint")
    with kasse_of(request).read() as store:
        return JSONResponse(_out(store, _mine(store, merchant_id, endpoint_id)))


@router.post("/webhook_endpoints/{endpoint_id}")
def update_endpoint(request: Request, endpoint_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    body = endpoint_in(params, creating=False)
    expand_in(params, "webhook_endpoint")
    checked = None if body.url is None else targets_of(request).vet(body.url, param="url")

    def operation(tx: Tx) -> dict[str, Any]:
        _mine(tx.store, tx.merchant_id, endpoint_id, for_update=True)
        change = webhooks.EndpointChange(
            url=checked, enabled_events=body.enabled_events, description=body.description, disabled=body.disabled
        )
        endpoint = webhooks.update_endpoint(tx, endpoint_id, change)
        version, metadata = tx.store.stripe_endpoint(merchant_id=tx.merchant_id, endpoint_id=endpoint_id)
        merged = {k: v for k, v in {**metadata, **body.metadata}.items() if v is not None}
        tx.store.put_stripe_endpoint(
            merchant_id=tx.merchant_id, endpoint_id=endpoint_id, api_version=version, metadata=merged
        )
        return _out(tx.store, endpoint)

    return post(request, merchant_id, params, operation)


@router.delete("/webhook_endpoints/{endpoint_id}")
def delete_endpoint(request: Request, endpoint_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    check_known(params, set())

    def delete(tx: Tx) -> None:
        _mine(tx.store, tx.merchant_id, endpoint_id, for_update=True)
        webhooks.delete_endpoint(tx, endpoint_id)

    kasse_of(request).run(merchant_id, delete)
    return JSONResponse({"id": endpoint_id, "object": "webhook_endpoint", "deleted": True})
