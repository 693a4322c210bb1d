"""Stripe's HTTP conventions for every route of the dialect: errors in Stripe's shape (whatever raises,
including authentication), a ``Request-Id`` on every answer, the secret key as Bearer or as Basic user
name, parameters from the bracket form (POST body) or the query (GET, DELETE), Stripe's list shape, and
idempotent POSTs (keys kept 24 hours)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kasse.codecs.bracket import decode_bracket_form, decode_bracket_pairs
from kasse.dialects.stripe.errors import stripe_error, stripe_error_response, unexpected_error
from kasse.domain.errors import DomainError, ErrorCode, InvalidRequest, Unauthenticated
from kasse.domain.ids import new_token
from kasse.edge.auth import Authenticator, Presented, basic_user, bearer, merchant_of_secret_key
from kasse.edge.errors import dialect_route
from kasse.edge.request import kasse_of
from kasse.engine.idempotency import fingerprint, run_idempotent
from kasse.engine.unit import Tx

__all__ = ["MerchantId", "Params", "StripeRoute", "post", "stripe_list"]

IDEMPOTENCY_TTL_S = 86_400


def _render(exc: Exception) -> Response:
    if isinstance(exc, DomainError):
        return stripe_error_response(exc)
    if isinstance(exc, HTTPException):
        return stripe_error(exc.status_code, "invalid_request_error", None, str(exc.detail))
    return unexpected_error(exc)


StripeRoute = dialect_route(_render, headers=lambda: {"Request-Id": "req_" + new_token(12)}, name="StripeRoute")


def _missing() -> Exception:
    return Unauthenticated(
        "You did not provide an API key. You need to provide your API key in the Authorization header, "
        "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
    )


def _invalid(presented: Presented) -> Exception:
    key = presented.secret
    shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else "*" * len(key)
    return Unauthenticated(f"Invalid API Key provided: {shown}")


# The secret key as Bearer token or as Basic user name (stripe-python sends Bearer; curl -u sends Basic).
stripe_merchant = Authenticator[str]("secret_key", (bearer, basic_user), merchant_of_secret_key, _missing, _invalid)


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
