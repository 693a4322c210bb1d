"""PAYONE's TransactionStatus (TxStatus) notification (clients.md §4.6): a form-encoded POST to the
merchant's TransactionStatus URL with ``key`` = md5 hex of the portal key (every shop plugin compares
exactly that), ``txaction``, ``sequencenumber``, ``price``, ``receivable``, ``balance`` and the rest.

The shop acknowledges with the body ``TSOK`` (pretix, shopware-6, woocommerce-3); anything else is sent
again on the schedule below (merchant's clock). PAYONE documents no exact schedule; Kasse retries after
1, 5 and 15 minutes, then hourly, 4-hourly and twice more at 12 hours.
"""

from __future__ import annotations

import hashlib

from kasse.codecs import keyvalue
from kasse.delivery.render import Rendered
from kasse.domain.models import Event
from kasse.domain.webhooks import WebhookEndpoint

__all__ = ["RETRY_SCHEDULE_S", "acknowledged", "render"]

RETRY_SCHEDULE_S = (60, 300, 900, 3_600, 14_400, 43_200, 43_200)


def render(event: Event, endpoint: WebhookEndpoint, *, base_url: str, wall_s: int) -> Rendered:
    fields = {str(k): str(v) for k, v in dict(event.data.get("fields") or {}).items()}
    key = hashlib.md5(endpoint.secret.encode()).hexdigest()  # PAYONE's scheme
    body = keyvalue.encode_form({"key": key, **fields})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Kasse-PAYONE-TxStatus/1.0"}
    return Rendered(endpoint.url, headers, body.encode())


def acknowledged(status: int, text: str) -> bool:
    return text.strip() == "TSOK"
