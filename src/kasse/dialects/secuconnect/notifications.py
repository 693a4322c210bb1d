"""secuconnect push notifications (Push_Notifications_for_Payments, Consume_the_Push_Message):

- ``POST <url_push>`` with ``Content-Type: application/json`` and ``{"object": "event.pushes", "id",
  "created", "target": "payment.transactions", "type": "changed" | "added", "data": [{"object":
  "payment.transactions", "id": "PCI_…"}]}``;
- unsigned: the shop re-reads the object over the authenticated API (pretix-secuconnect does);
- "sent repeatedly until your system responds with 200 OK. After 24 hours without such acknowledgement,
  our system discards the notification": only 200 acknowledges, and the retries (merchant's clock) end
  within 24 hours of the first attempt.
"""

from __future__ import annotations

import json

from kasse.delivery.render import Rendered
from kasse.domain.models import Event
from kasse.domain.webhooks import WebhookEndpoint

__all__ = ["RETRY_SCHEDULE_S", "acknowledged", "render"]

# Growing waits that add up to 85,860 s (23 h 51 min): every attempt falls within the 24 hours.
RETRY_SCHEDULE_S = (60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 28_800)
assert sum(RETRY_SCHEDULE_S) <= 86_400


def render(event: Event, endpoint: WebhookEndpoint, *, base_url: str, wall_s: int) -> Rendered:
    body = json.dumps(event.data["object"], separators=(",", ":"))
    headers = {"Content-Type": "application/json", "Accept": "*/*", "User-Agent": "Kasse-secuconnect-Push/1.0"}
    return Rendered(endpoint.url, headers, body.encode(), method="POST")


def acknowledged(status: int, text: str) -> bool:
    return status == 200
