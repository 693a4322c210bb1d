"""Signing keys (``/v2/notification/signing-keys``) and webhook subscriptions (``/v2/notification/webhooks``,
with ``…/simulate``). A subscription is an engine webhook endpoint of the Klarna dialect whose secret is
the signing key's; its Klarna id, key id and event version ride in the endpoint (``Subscription``). The
keys themselves are a merchant setting (at most 50, shown once, like Klarna's)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.klarna.errors import CONFLICT, FORBIDDEN, NOT_FOUND, KlarnaError
from kasse.dialects.klarna.model import DIALECT, account_of
from kasse.dialects.klarna.notifications import SIMULATED, Subscription
from kasse.dialects.klarna.provider_events import PREFIX
from kasse.dialects.klarna.routes import both
from kasse.dialects.klarna.schemas import SimulateIn, WebhookIn, WebhookPatch, parse
from kasse.dialects.klarna.translate import ts
from kasse.dialects.klarna.wire import Body, KlarnaRoute, Partner, idempotent
from kasse.domain.models import Event
from kasse.domain.webhooks import EndpointStatus, WebhookEndpoint
from kasse.edge.json import JSONResponse
from kasse.edge.request import kasse_of, targets_of
from kasse.engine import merchants, webhooks
from kasse.engine.unit import Tx

__all__ = ["router"]

router = APIRouter(prefix="/klarna/v2", route_class=KlarnaRoute, include_in_schema=False)
KEYS = "klarna_signing_keys"  # the merchant setting: {signing_key_id: {signing_key, created_at}}
MAX_KEYS = 50
WEBHOOK_PREFIX = "krn:partner:global:notification:webhook:"


def _keys(tx: Tx) -> dict[str, Any]:
    found = tx.store.merchant_settings(merchant_id=tx.merchant_id).get(KEYS)
    return dict(found) if isinstance(found, dict) else {}


def _key_out(key_id: str, entry: dict[str, Any], *, with_secret: bool = False) -> dict[str, Any]:
    out = {"signing_key_id": key_id, "created_at": entry["created_at"]}
    return out | {"signing_key": entry["signing_key"]} if with_secret else out


def _create_key(tx: Tx) -> tuple[int, Any]:
    keys = _keys(tx)
    if len(keys) >= MAX_KEYS:
        raise KlarnaError(FORBIDDEN, f"An account has at most {MAX_KEYS} signing keys")
    key_id = str(uuid.uuid4())
    keys[key_id] = {"signing_key": secrets.token_urlsafe(32), "created_at": ts(tx.now)}
    merchants.put_setting(tx, KEYS, keys)
    return 201, _key_out(key_id, keys[key_id], with_secret=True)


@both(router, "POST", "/notification/signing-keys", 201)
def create_signing_key(request: Request, who: Partner) -> Response:
    return idempotent(request, who, _create_key)


@both(router, "GET", "/notification/signing-keys")
def list_signing_keys(request: Request, who: Partner) -> Response:
    keys = kasse_of(request).run(who.merchant_id, _keys)
    return JSONResponse({"signing_keys": [_key_out(k, v) for k, v in keys.items()]})


def _key(tx: Tx, key_id: str) -> dict[str, Any]:
    entry = _keys(tx).get(key_id)
    if not isinstance(entry, dict):
        raise KlarnaError(NOT_FOUND, f"Signing key not found: {key_id}")
    return entry


@both(router, "GET", "/notification/signing-keys/{signing_key_id}")
def read_signing_key(request: Request, signing_key_id: str, who: Partner) -> Response:
    return JSONResponse(_key_out(signing_key_id, kasse_of(request).run(who.merchant_id, _key, signing_key_id)))


def _mine(tx: Tx) -> list[WebhookEndpoint]:
    return [e for e in tx.store.list_endpoints(merchant_id=tx.merchant_id, limit=1_000).items if e.dialect == DIALECT]


def _delete_key(tx: Tx, key_id: str) -> None:
    _key(tx, key_id)
    if any(Subscription.of(e).signing_key_id == key_id for e in _mine(tx)):
        raise KlarnaError(CONFLICT, f"Signing key {key_id} is used by a webhook; change or delete the webhook first")
    keys = _keys(tx)
    del keys[key_id]
    merchants.put_setting(tx, KEYS, keys)


@both(router, "DELETE", "/notification/signing-keys/{signing_key_id}")
def delete_signing_key(request: Request, signing_key_id: str, who: Partner) -> Response:
    kasse_of(request).run(who.merchant_id, _delete_key, signing_key_id)
    return Response(status_code=204)


# --- webhooks --------------------------------------------------------------------------------------


def _webhook_out(endpoint: WebhookEndpoint) -> dict[str, Any]:
    sub = Subscription.of(endpoint)
    return {
        "webhook_id": sub.webhook_id,
        "url": endpoint.url,
        "event_types": [t for t in endpoint.enabled_events if not t.startswith(SIMULATED)],
        "event_version": sub.event_version,
        "signing_key_id": sub.signing_key_id,
        "status": "ENABLED" if endpoint.status is EndpointStatus.ENABLED else "DISABLED",
        "created_at": ts(endpoint.created_at),
        "updated_at": ts(endpoint.updated_at),
    }


def _webhook(tx: Tx, webhook_id: str) -> WebhookEndpoint:
    found = tx.store.find_external_id(
        merchant_id=tx.merchant_id, dialect=DIALECT, kind="webhook", external_id=webhook_id
    )
    if found is None:
        raise KlarnaError(NOT_FOUND, f"Webhook not found: {webhook_id}")
    return webhooks.get_endpoint(tx, found.object_id)


@both(router, "POST", "/notification/webhooks", 201)
def create_webhook(request: Request, who: Partner, payload: Body) -> Response:
    body = parse(WebhookIn, payload)
    url = targets_of(request).vet(body.url, param="url")

    def operation(tx: Tx) -> tuple[int, Any]:
        secret = _key(tx, body.signing_key_id)["signing_key"]
        sub = Subscription(WEBHOOK_PREFIX + str(uuid.uuid4()), body.signing_key_id, body.event_version)
        endpoint = webhooks.create_endpoint(
            tx,
            url=url,
            enabled_events=list(body.event_types),
            description=sub.as_json(),
            dialect=DIALECT,
            secret=secret,
        )
        tx.link(
            dialect=DIALECT,
            kind="webhook",
            external_id=sub.webhook_id,
            object_type="webhook_endpoint",
            object_id=endpoint.id,
        )
        events = [*body.event_types, SIMULATED + endpoint.id]
        change = webhooks.EndpointChange(enabled_events=events, disabled=body.status == "DISABLED")
        return 201, _webhook_out(webhooks.update_endpoint(tx, endpoint.id, change))

    return idempotent(request, who, operation)


@both(router, "GET", "/notification/webhooks")
def list_webhooks(request: Request, who: Partner) -> Response:
    found = kasse_of(request).run(who.merchant_id, _mine)
    return JSONResponse({"webhooks": [_webhook_out(e) for e in found]})


@both(router, "GET", "/notification/webhooks/{webhook_id}")
def read_webhook(request: Request, webhook_id: str, who: Partner) -> Response:
    return JSONResponse(_webhook_out(kasse_of(request).run(who.merchant_id, _webhook, webhook_id)))


@both(router, "PATCH", "/notification/webhooks/{webhook_id}")
def update_webhook(request: Request, webhook_id: str, who: Partner, payload: Body) -> Response:
    body = parse(WebhookPatch, payload)
    url = None if body.url is None else targets_of(request).vet(body.url, param="url")

    def operation(tx: Tx) -> tuple[int, Any]:
        endpoint = _webhook(tx, webhook_id)
        old = Subscription.of(endpoint)
        sub = Subscription(
            old.webhook_id, body.signing_key_id or old.signing_key_id, body.event_version or old.event_version
        )
        events = None if body.event_types is None else [*body.event_types, SIMULATED + endpoint.id]
        change = webhooks.EndpointChange(
            url=url,
            enabled_events=events,
            description=sub.as_json(),
            secret=_key(tx, sub.signing_key_id)["signing_key"],
            disabled=None if body.status is None else body.status == "DISABLED",
        )
        return 200, _webhook_out(webhooks.update_endpoint(tx, endpoint.id, change))

    return idempotent(request, who, operation)


def _delete_webhook(tx: Tx, webhook_id: str) -> None:
    webhooks.delete_endpoint(tx, _webhook(tx, webhook_id).id)


@both(router, "DELETE", "/notification/webhooks/{webhook_id}")
def delete_webhook(request: Request, webhook_id: str, who: Partner) -> Response:
    kasse_of(request).run(who.merchant_id, _delete_webhook, webhook_id)
    return Response(status_code=204)


@both(router, "POST", "/notification/webhooks/{webhook_id}/simulate")
def simulate_webhook(request: Request, webhook_id: str, who: Partner, payload: Body) -> Response:
    """Sends one sample event of ``event_type`` to this subscription alone, signed like any other."""
    body = parse(SimulateIn, payload)

    def operation(tx: Tx) -> tuple[int, Any]:
        endpoint = _webhook(tx, webhook_id)
        sample = {"payment_request_id": "krn:payment:eu1:request:" + str(uuid.uuid4()), "simulated": True}
        tx.publish(
            Event(
                id=tx.new_id("event"),
                merchant_id=tx.merchant_id,
                type=PREFIX + SIMULATED + endpoint.id,
                object_type="klarna_webhook",
                object_id=endpoint.id,
                payment_id=None,
                created_at=tx.now,
                data={"object": sample, "account_id": account_of(tx), "event_type": body.event_type},
            )
        )
        return 204, None

    return idempotent(request, who, operation)
