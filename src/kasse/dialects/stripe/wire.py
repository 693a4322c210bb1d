"""Stripe's HTTP conventions for every route of the dialect: errors in Stripe's shape (whatever raises,
including authentication), a ``Request-Id`` on every answer, the secret key as Bearer or as Basic user
name, parameters from the bracket form (POST body) or the query (GET, DELETE), Stripe's list shape, and
idempotent POSTs (keys kept 24 hours)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kasse.codecs.bracket import decode_bracket_form, decode_bracket_pairs
from kasse.dialects.stripe.errors import stripe_error, stripe_error_response, unexpected_error
from kasse.domain.errors import DomainError, ErrorCode, InvalidRequest, Unauthenticated
from kasse.domain.ids import new_token
from kasse.engine.merchants import hash_secret, merchant_for_secret_key
from kasse.engine.targets import TargetGuard
from kasse.engine.unit import Kasse, Tx
from kasse.web.idempotency import fingerprint, run_idempotent

__all__ = ["MerchantId", "Params", "StripeRoute", "base_url", "kasse_of", "post", "stripe_list", "targets_of"]

IDEMPOTENCY_TTL_S = 86_400


class StripeRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await inner(request)
            except DomainError as exc:
                response = stripe_error_response(exc)
            except HTTPException as exc:
                response = stripe_error(exc.status_code, "invalid_request_error", None, str(exc.detail))
            except Exception as exc:
                response = unexpected_error(exc)
            response.headers["Request-Id"] = "req_" + new_token(12)
            return response

        return handler


def kasse_of(request: Request) -> Kasse:
    kasse: Kasse = request.app.state.kasse
    return kasse


def targets_of(request: Request) -> TargetGuard:
    targets: TargetGuard = request.app.state.targets
    return targets


def base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url)


def _secret_key(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            user = base64.b64decode(value, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user or None
    return None


def _lookup(kasse: Kasse, key: str) -> str | None:
    with kasse.read() as store:
        return merchant_for_secret_key(store, key)


async def stripe_merchant(request: Request) -> str:
    key = _secret_key(request)
    if key is None:
        raise Unauthenticated(
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
        )
    cache: dict[str, str] = request.app.state.key_cache
    hashed = hash_secret(key)
    merchant_id = cache.get(hashed) or await run_in_threadpool(_lookup, kasse_of(request), key)
    if merchant_id is None:
        shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else "*" * len(key)
        raise Unauthenticated(f"Invalid API Key provided: {shown}")
    cache[hashed] = merchant_id
    return merchant_id


async def stripe_params(request: Request) -> dict[str, Any]:
    params = decode_bracket_pairs(list(request.query_params.multi_items()))
    if request.method == "POST":
        body = await request.body()
        ctype = request.headers.get("content-type", "")
        if body and "json" in ctype:
            raise InvalidRequest(
                ErrorCode.PARAMETER_INVALID,
                "Send parameters form-encoded (application/x-www-form-urlencoded), as Stripe does",
            )
        params.update(decode_bracket_form(body))
    return params


MerchantId = Annotated[str, Depends(stripe_merchant)]
Params = Annotated[dict[str, Any], Depends(stripe_params)]


def post(
    request: Request, merchant_id: str, params: dict[str, Any], operation: Callable[[Tx], dict[str, Any]]
) -> JSONResponse:
    """Run a POST in one unit of work under its ``Idempotency-Key`` (stripe-python sends one with every
    POST): the same key and parameters replay the stored answer; other parameters are an
    ``idempotency_error``."""
    key = request.headers.get("idempotency-key")
    outcome = run_idempotent(
        kasse_of(request), merchant_id=merchant_id, scope="stripe", key=key or None,
        fingerprint=fingerprint(request.method, request.url.path, params),
        operation=lambda tx: (200, operation(tx)), ttl_s=IDEMPOTENCY_TTL_S,
    )  # fmt: skip
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if key:
        headers["Idempotency-Key"] = key
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


def stripe_list(url: str, items: list[dict[str, Any]], has_more: bool) -> JSONResponse:
    return JSONResponse({"object": "list", "data": items, "has_more": has_more, "url": url})
