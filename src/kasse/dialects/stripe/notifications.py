"""Stripe webhooks: the event as ``GET /v1/events/{id}`` shows it, POSTed as JSON and signed with
``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}" keyed with the whole whsec_ secret>``,
which ``stripe.Webhook.construct_event`` verifies (stripe-python ``_webhook.py``)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from kasse.delivery.render import Rendered
from kasse.dialects.stripe.provider_events import absolute, stripe_type
from kasse.dialects.stripe.translate import ts
from kasse.domain.models import Event
from kasse.domain.webhooks import WebhookEndpoint

__all__ = ["API_VERSION", "body", "event_out", "render", "sign", "signature_header"]

# What stripe-python 16.1.0 sends as Stripe-Version (stripe/_api_version.py); Kasse answers every version
# the same way and labels its events with this one.
API_VERSION = "2026-10-28.endive"


def event_out(event: Event, base_url: str, *, pending_webhooks: int = 0) -> dict[str, Any]:
    return {
        "id": event.id,
        "object": "event",
        "api_version": API_VERSION,
        "created": ts(event.created_at),
        "data": absolute(event.data, base_url),
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": None, "idempotency_key": None},
        "type": stripe_type(event.type),
    }


def signature_header(secret: str, timestamp_s: int, body: bytes) -> str:
    signed = f"{timestamp_s}.".encode() + body
    return f"t={timestamp_s},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def body(event: Event, *, base_url: str) -> bytes:
    return json.dumps(event_out(event, base_url, pending_webhooks=1), separators=(",", ":")).encode()


def sign(event: Event, endpoint: WebhookEndpoint, body: bytes, *, wall_s: int) -> Rendered:
    headers = {
        "content-type": "application/json; charset=utf-8",
        "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "stripe-signature": signature_header(endpoint.secret, wall_s, body),
    }
    return Rendered(endpoint.url, headers, body)


def render(event: Event, endpoint: WebhookEndpoint, *, base_url: str, wall_s: int) -> Rendered:
    return sign(event, endpoint, body(event, base_url=base_url), wall_s=wall_s)
