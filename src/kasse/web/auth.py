"""Authentication of the native API and the control planes."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from kasse.domain.errors import Unauthenticated
from kasse.engine.merchants import hash_secret, merchant_for_secret_key
from kasse.engine.unit import Kasse

__all__ = ["bearer_token", "merchant_from_bearer", "require_admin"]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# Declared for the OpenAPI document; the checks below read the header themselves for exact errors.
_SECRET_KEY = HTTPBearer(auto_error=False, scheme_name="secret_key", description="The merchant's secret key")
_ADMIN_TOKEN = HTTPBearer(auto_error=False, scheme_name="admin_token", description="KASSE_ADMIN_TOKEN")
SecretKey = Annotated[HTTPAuthorizationCredentials | None, Security(_SECRET_KEY)]
AdminToken = Annotated[HTTPAuthorizationCredentials | None, Security(_ADMIN_TOKEN)]


# Secret key hash → merchant id. Keys are never changed or deleted once issued, so a positive answer
# stays true; a miss is always asked of the database. Bounded: cleared when it grows past the limit.
_CACHE_LIMIT = 10_000


def _lookup(kasse: Kasse, token: str) -> str | None:
    with kasse.read() as store:
        return merchant_for_secret_key(store, token)


async def merchant_from_bearer(request: Request, _declared: SecretKey = None) -> str:
    """The merchant whose secret key is presented as ``Authorization: Bearer sk_test_…``.

    Async, so a cache hit costs no thread-pool hop and no database round trip."""
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated(
            "You did not provide an API key. Send your secret key as 'Authorization: Bearer sk_test_…'"
        )
    cache: dict[str, str] = request.app.state.key_cache
    key = hash_secret(token)
    merchant_id = cache.get(key)
    if merchant_id is None:
        merchant_id = await run_in_threadpool(_lookup, request.app.state.kasse, token)
        if merchant_id is not None:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[key] = merchant_id
    if merchant_id is None:
        raise Unauthenticated(f"Invalid API key provided: {token[:12]}{'…' if len(token) > 12 else ''}")
    return merchant_id


async def require_admin(request: Request, _declared: AdminToken = None) -> None:
    token = bearer_token(request)
    expected: str = request.app.state.settings.admin_token
    if token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthenticated("This endpoint needs the admin token: 'Authorization: Bearer <KASSE_ADMIN_TOKEN>'")
