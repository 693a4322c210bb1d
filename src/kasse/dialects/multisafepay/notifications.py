"""MultiSafepay notifications (MultiSafepay docs "Webhook"; ``multisafepay.util.webhook.Webhook``):

- POST ``notification_url?transactionid=<order_id>&timestamp=<unix>`` with the order as compact JSON
  (``separators=(",", ":")``, not ASCII-escaped: the SDK re-serialises the body that way before it
  checks the signature) and ``Auth: base64("<ts>:" + hex HMAC-SHA512(api_key, "<ts>:<body>"))``;
- or GET ``notification_url?transactionid=…&timestamp=…`` without a body (``notification_method=GET``);
- acknowledged by an answer with ``OK`` in its first 100 characters (or ``MULTISAFEPAY_OK``), otherwise
  sent again 3 times at 15-minute intervals (merchant's clock), each time with a new timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import quote

from kasse.delivery.render import Rendered
from kasse.domain.models import Event
from kasse.domain.webhooks import WebhookEndpoint

__all__ = ["acknowledged", "auth_header", "render"]

RETRY_SCHEDULE_S = (900, 900, 900)


def auth_header(api_key: str, timestamp_s: int, body: str) -> str:
    digest = hmac.new(api_key.strip().encode(), f"{timestamp_s}:{body}".encode(), hashlib.sha512).hexdigest()
    return base64.b64encode(f"{timestamp_s}:{digest}".encode()).decode()


def render(event: Event, endpoint: WebhookEndpoint, *, base_url: str, wall_s: int) -> Rendered:
    order = event.data["object"]
    body = json.dumps(order, separators=(",", ":"), ensure_ascii=False)
    separator = "&" if "?" in endpoint.url else "?"
    url = f"{endpoint.url}{separator}transactionid={quote(str(order['order_id']), safe='')}&timestamp={wall_s}"
    headers = {"User-Agent": "Kasse-MultiSafepay-Notifications/1.0"}
    if event.data.get("notification_method", "POST").upper() == "GET":
        return Rendered(url, headers, b"", method="GET")
    headers.update({"Content-Type": "application/json", "Auth": auth_header(endpoint.secret, wall_s, body)})
    return Rendered(url, headers, body.encode(), method="POST")


def acknowledged(status: int, text: str) -> bool:
    head = text[:100]
    return "OK" in head or "MULTISAFEPAY_OK" in head
