"""secuconnect's OAuth 2.0 ``client_credentials`` grant (Authenticate_with_OAuth_2.0): the merchant's
client id and secret (stored hashed) buy an access token valid 1200 seconds on the merchant's clock.

Tokens are the dialect's own objects (``secuconnect_tokens``, by their SHA-256), written through the unit
of work; a token's expiry is checked against the merchant's clock on every request, so advancing the
clock 20 minutes makes it lapse. Lapsed tokens of a merchant are removed when it gets a new one."""

from __future__ import annotations

import dataclasses
import hmac
import secrets
import string
from datetime import timedelta
from typing import Any

from kasse.dialects.secuconnect import errors as e
from kasse.dialects.secuconnect.schemas import TokenIn
from kasse.engine.merchants import hash_secret
from kasse.engine.unit import Kasse, Tx
from kasse.storage.store import SecuconnectToken

__all__ = ["EXPIRES_IN_S", "Account", "issue", "lookup_token"]

EXPIRES_IN_S = 1200
SCOPE = "https://scope.secucard.com/e/api"
CREDENTIAL_KIND = "secuconnect"
_ALPHABET = string.ascii_lowercase + string.digits


@dataclasses.dataclass(frozen=True, slots=True)
class Account:
    merchant_id: str
    client_id: str


def _client(kasse: Kasse, body: TokenIn) -> Account:
    if body.grant_type != "client_credentials":
        raise e.SecuError(e.INVALID, f"Unsupported grant_type '{body.grant_type}': use client_credentials")
    with kasse.read() as store:
        found = store.find_credential(CREDENTIAL_KIND, body.client_id)
    expected = str(found["secret_hash"]) if found is not None and found.get("secret_hash") else ""
    # Compared in constant time; an unknown client id is compared against nothing and refused alike.
    if not hmac.compare_digest(expected.encode(), hash_secret(body.client_secret).encode()) or found is None:
        raise e.SecuError(e.AUTH_CLIENT, "Invalid client credentials")
    return Account(str(found["merchant_id"]), body.client_id)


def _store_token(tx: Tx, client_id: str, token: str) -> None:
    tx.store.delete_expired_secuconnect_tokens(merchant_id=tx.merchant_id, now=tx.now)
    expires_at = tx.now + timedelta(seconds=EXPIRES_IN_S)
    tx.store.insert_secuconnect_token(
        SecuconnectToken(tx.merchant_id, hash_secret(token), client_id, tx.now, expires_at)
    )


def issue(kasse: Kasse, body: TokenIn) -> dict[str, Any]:
    """A new access token (secuconnect's are 26 lower-case letters and digits)."""
    account = _client(kasse, body)
    token = "".join(secrets.choice(_ALPHABET) for _ in range(26))
    kasse.run(account.merchant_id, _store_token, account.client_id, token)
    return {"access_token": token, "expires_in": EXPIRES_IN_S, "token_type": "bearer", "scope": SCOPE}


def lookup_token(kasse: Kasse, token: str) -> Account | None:
    """The merchant a presented bearer token belongs to, if it is known and not expired on that
    merchant's clock."""
    with kasse.read() as store:
        found = store.find_secuconnect_token(hash_secret(token))
    if found is None or kasse.merchant_now(merchant_id=found.merchant_id) >= found.expires_at:
        return None
    return Account(found.merchant_id, found.client_id)
