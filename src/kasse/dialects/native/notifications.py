"""Native notifications: the event as the API shows it, POSTed as JSON with Standard Webhooks headers
(``webhook-id`` is the event id, the receiver's deduplication key)."""

from __future__ import annotations

import json

from kasse.delivery.render import Rendered
from kasse.delivery.signing import standard_webhooks_headers
from kasse.dialects.native.translate import event_out
from kasse.domain.models import Event
from kasse.domain.webhooks import WebhookEndpoint

__all__ = ["body", "render", "sign"]


def body(event: Event, *, base_url: str) -> bytes:
    return json.dumps(event_out(event, base_url), separators=(",", ":")).encode()


def sign(event: Event, endpoint: WebhookEndpoint, body: bytes, *, wall_s: int) -> Rendered:
    headers = {
        "content-type": "application/json",
        "user-agent": "Kasse-Webhooks/1.0",
        **standard_webhooks_headers(endpoint.secret, event.id, wall_s, body),
    }
    return Rendered(endpoint.url, headers, body)


def render(event: Event, endpoint: WebhookEndpoint, *, base_url: str, wall_s: int) -> Rendered:
    return sign(event, endpoint, body(event, base_url=base_url), wall_s=wall_s)
