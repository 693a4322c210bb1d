"""Standard Webhooks signatures (https://www.standardwebhooks.com): what the ``standardwebhooks``
package verifies unchanged."""

from __future__ import annotations

import base64
import hashlib
import hmac

from kasse.domain.webhooks import SECRET_PREFIX, new_secret

__all__ = ["new_secret", "standard_webhooks_headers"]


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def standard_webhooks_headers(secret: str, msg_id: str, timestamp_s: int, body: bytes) -> dict[str, str]:
    signed = f"{msg_id}.{timestamp_s}.".encode() + body
    signature = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp_s), "webhook-signature": f"v1,{signature}"}
