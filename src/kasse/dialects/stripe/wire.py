"""Stripe's HTTP conventions for every route of the dialect: errors in Stripe's shape (whatever raises,
including authentication), a ``Request-Id`` and the ``Stripe-Version`` in effect on every answer (a
malformed or unknown version refused), the secret key as Bearer or as Basic user name, parameters from
the bracket form (POST body) or the query (GET, DELETE), Stripe's list shape, and idempotent POSTs (keys
kept 24 hours, replays naming their ``Original-Request``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from kasse.codecs.bracket import decode_bracket_form, decode_bracket_pairs
from kasse.dialects.stripe.catalog import CURRENT_VERSION, known_version
from kasse.dialects.stripe.errors import stripe_error, stripe_error_response, unexpected_error
from kasse.domain.errors import DomainError, ErrorCode, InvalidRequest, Unauthenticated
from kasse.domain.ids import new_token
from kasse.edge.auth import Authenticator, Presented, basic_user, bearer, merchant_of_secret_key
from kasse.edge.json import JSONResponse
from kasse.edge.request import kasse_of
from kasse.engine.idempotency import fingerprint, run_idempotent
from kasse.engine.unit import Tx

__all__ = ["MerchantId", "Params", "StripeRoute", "list_body", "post", "stripe_list"]

IDEMPOTENCY_TTL_S = 86_400


def _render(exc: Exception) -> Response:
    if isinstance(exc, DomainError):
        return stripe_error_response(exc)
    if isinstance(exc, HTTPException):
        return stripe_error(exc.status_code, "invalid_request_error", None, str(exc.detail))
    return unexpected_error(exc)


def _version(request: Request) -> str:
    """The API version in effect: the ``Stripe-Version`` header's, or the current one. Stripe refuses a
    malformed or unknown version before anything else."""
    asked = request.headers.get("stripe-version")
    if asked is None or not asked.strip():
        return CURRENT_VERSION
    found = known_version(asked.strip())
    if found is None:
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Invalid Stripe API version: {asked.strip()}")
    return found


class StripeRoute(APIRoute):
    """Whatever a route raises is answered in Stripe's shape (as ``kasse.edge.errors.dialect_route``);
    every answer, success or error, carries ``Request-Id`` and the ``Stripe-Version`` in effect."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            request.state.request_id = "req_" + new_token(12)
            try:
                version = _version(request)
            except InvalidRequest as exc:
                response: Response = stripe_error(400, "invalid_request_error", None, exc.message)
                version = CURRENT_VERSION
            else:
                try:
                    response = await inner(request)
                except Exception as exc:
                    response = _render(exc)
            response.headers.update({"Request-Id": request.state.request_id, "Stripe-Version": version})
            return response

        return handler


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
    request_id = getattr(request.state, "request_id", None)
    outcome = run_idempotent(
        kasse_of(request), merchant_id=merchant_id, scope="stripe", key=key or None,
        fingerprint=fingerprint(request.method, request.url.path, params),
        operation=lambda tx: (200, operation(tx)), ttl_s=IDEMPOTENCY_TTL_S,
        headers={"Original-Request": request_id} if request_id else None,
    )  # fmt: skip
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if key:
        # Stripe names the request whose answer this is: this one, or the one replayed.
        headers["Idempotency-Key"] = key
        headers.update(outcome.headers)
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


def list_body(url: str, items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": has_more, "url": url}


def stripe_list(url: str, items: list[dict[str, Any]], has_more: bool) -> JSONResponse:
    return JSONResponse(list_body(url, items, has_more))
