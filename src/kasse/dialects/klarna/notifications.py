"""Klarna's webhooks: ``{metadata, payload}`` JSON (the v2 envelope, or v1 when the subscription asks
for it), signed with ``Klarna-Signature`` = lowercase hex HMAC-SHA256 of the raw body under the signing
key named in ``Klarna-Signing-Key-Id`` (KROK ``Notifications::validate_request``:
``hash_hmac('sha256', $body, $key)``). Acknowledged by 200, 201, 202 or 204; otherwise retried 10 s,
2 min, 15 min, 3 h, 6 h and 12 h later on the merchant's clock (Klarna "Set up your webhooks")."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

from kasse.delivery.render import Rendered
from kasse.dialects.klarna.provider_events import PREFIX
from kasse.dialects.klarna.translate import PAGE_PATH, ts
from kasse.domain.models import Event
from kasse.domain.webhooks import WebhookEndpoint

__all__ = ["RETRY_SCHEDULE_S", "Subscription", "acknowledged", "event_id", "render", "signature"]

RETRY_SCHEDULE_S = (10, 120, 900, 10_800, 21_600, 43_200)
SIMULATED = "simulate."  # a simulated event's stored type: addressed to one subscription (see webhooks.py)


@dataclass(frozen=True, slots=True)
class Subscription:
    """What a Klarna webhook adds to the engine's endpoint, kept as JSON in its ``description``."""

    webhook_id: str
    signing_key_id: str
    event_version: str

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> Subscription:
        data = json.loads(endpoint.description or "{}")
        return cls(
            str(data.get("webhook_id", "")), str(data.get("signing_key_id", "")), str(data.get("event_version", "v2"))
        )

    def as_json(self) -> str:
        return json.dumps(
            {"webhook_id": self.webhook_id, "signing_key_id": self.signing_key_id, "event_version": self.event_version}
        )


def acknowledged(status: int, _text: str) -> bool:
    return status in (200, 201, 202, 204)


def signature(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def event_id(event: Event) -> str:
    """A UUID per event, the same on every retry (receivers deduplicate by it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kasse:{event.merchant_id}:{event.id}"))


def _absolute(payload: Any, base_url: str) -> Any:
    if isinstance(payload, dict):
        return {
            k: (
                base_url + v
                if k == "payment_request_url" and isinstance(v, str) and v.startswith(PAGE_PATH)
                else _absolute(v, base_url)
            )
            for k, v in payload.items()
        }
    if isinstance(payload, list):
        return [_absolute(v, base_url) for v in payload]
    return payload


def envelope(event: Event, subscription: Subscription, base_url: str) -> dict[str, Any]:
    type_ = event.type.removeprefix(PREFIX)
    if type_.startswith(SIMULATED):
        type_ = str(event.data.get("event_type", type_))
    account = str(event.data.get("account_id", ""))
    metadata: dict[str, Any] = {
        "event_type": type_,
        "event_id": event_id(event),
        "event_version": subscription.event_version,
        "occurred_at": ts(event.created_at),
    }
    if subscription.event_version == "v1":
        metadata |= {"correlation_id": event_id(event), "account_id": account}
    else:
        metadata |= {"subject_account_id": account, "recipient_account_id": account}
    metadata |= {
        "product_instance_id": "krn:partner:product:payment:" + str(uuid.uuid5(uuid.NAMESPACE_URL, account)),
        "webhook_id": subscription.webhook_id,
        "live": False,
    }
    return {"metadata": metadata, "payload": _absolute(event.data.get("object", {}), base_url)}


def render(event: Event, endpoint: WebhookEndpoint, *, base_url: str, wall_s: int) -> Rendered:
    subscription = Subscription.of(endpoint)
    body = json.dumps(envelope(event, subscription, base_url), separators=(",", ":")).encode()
    headers = {
        "content-type": "application/json",
        "user-agent": "Klarna-Webhooks/1.0 (Kasse sandbox)",
        "klarna-signing-key-id": subscription.signing_key_id,
        "klarna-signature": signature(endpoint.secret, body),
    }
    return Rendered(endpoint.url, headers, body)
