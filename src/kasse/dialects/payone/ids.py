"""PAYONE's ids: ``txid`` (NUMERIC(9..12)) and ``userid`` (NUMERIC(6..12)) of a transaction, a session's
``workorderid`` (AN(1..16), ``WX…`` as in seed 003), ``session_id`` (a UUID), the widget's
``client_token`` (a JWT-shaped token like Klarna's) and ``authorization_token``.

A txid is random and recorded in ``external_ids`` (unique per merchant), so a capture finds its payment;
in the very unlikely case of a taken txid the unit rolls back and the request answers an error."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from typing import Any

from kasse.domain.models import Payment
from kasse.engine.unit import Tx
from kasse.storage.store import Store

__all__ = [
    "DIALECT",
    "client_token",
    "find_payment",
    "new_authorization_token",
    "new_session_id",
    "new_userid",
    "new_workorderid",
    "record_txid",
    "token_claims",
]

DIALECT = "payone"
TXID = "txid"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def new_txid() -> str:
    return str(100_000_000 + secrets.randbelow(900_000_000))


def new_userid() -> str:
    return str(100_000_000 + secrets.randbelow(900_000_000))


def new_workorderid() -> str:
    return "WX" + "".join(secrets.choice(_ALNUM) for _ in range(14))


def new_session_id() -> str:
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


def new_authorization_token() -> str:
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def client_token(*, merchant_id: str, session_id: str, country: str, language: str) -> str:
    """Shaped like Klarna's (seed 003: a JWT whose payload names the session); the widget finds the
    session by the merchant and session it names, and the stored token must match it exactly."""
    header = {"alg": "HS256", "kid": "kasse"}
    payload = {
        "session_id": session_id, "base_url": "kasse", "design": "klarna", "language": language,
        "purchase_country": country, "environment": "playground", "session_type": "PAYMENTS",
        "merchant_id": merchant_id,
    }  # fmt: skip
    signature = secrets.token_bytes(32)
    return ".".join(_b64(json.dumps(part).encode()) for part in (header, payload)) + "." + _b64(signature)


def token_claims(token: str) -> dict[str, Any] | None:
    """The payload of a client token, or None when it is not one of ours."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 2000:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict) or not all(isinstance(claims.get(k), str) for k in ("merchant_id", "session_id")):
        return None
    return claims


def record_txid(tx: Tx, payment: Payment, txid: str) -> None:
    tx.link(dialect=DIALECT, kind=TXID, external_id=txid, object_type="payment", object_id=payment.id)


def find_payment(store: Store, *, merchant_id: str, txid: str) -> Payment | None:
    found = store.find_external_id(merchant_id=merchant_id, dialect=DIALECT, kind=TXID, external_id=txid)
    return None if found is None else store.get_payment(merchant_id=merchant_id, payment_id=found.object_id)
