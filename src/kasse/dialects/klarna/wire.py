"""Klarna's HTTP plumbing for every route of the dialect: the route class (errors in Klarna's shape,
``Klarna-Correlation-Id`` on every answer, ``Partner-Correlation-Id`` echoed), HTTP Basic with the API
key (as issued, or ``base64("<key>:")`` as public clients send it), the partner account a request acts
for, the JSON body, and the idempotent write under ``Klarna-Idempotency-Key``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.klarna.errors import (
    BAD_INPUT,
    FORBIDDEN,
    INTERNAL,
    NOT_FOUND,
    UNAUTHORIZED,
    KlarnaError,
    error_body,
    from_domain,
    klarna_error_response,
)
from kasse.domain.errors import DomainError
from kasse.edge.auth import Authenticator, Presented
from kasse.edge.errors import dialect_route
from kasse.edge.json import JSONResponse
from kasse.edge.request import json_body, kasse_of
from kasse.engine.idempotency import run_idempotent
from kasse.engine.merchants import hash_secret
from kasse.engine.unit import Kasse, Tx

__all__ = ["Account", "Body", "KlarnaRoute", "Partner", "authenticate", "idempotent", "json_answer"]

log = logging.getLogger(__name__)
IDEMPOTENCY_TTL_S = 86_400  # "valid for 24 hours" (Klarna, integration resilience)
CONTEXT_TOKENS = (
    "klarna-network-session-token",
    "klarna-payment-token",
    "klarna-customer-token",
    "x-klarna-customer-token",
)


def _render(exc: Exception) -> Response:
    if isinstance(exc, KlarnaError):
        return klarna_error_response(exc)
    if isinstance(exc, DomainError):
        return klarna_error_response(from_domain(exc))
    if isinstance(exc, RequestValidationError):
        return klarna_error_response(KlarnaError(BAD_INPUT, "Invalid request"))
    if isinstance(exc, HTTPException):
        kind = NOT_FOUND if exc.status_code == 404 else BAD_INPUT
        return klarna_error_response(KlarnaError(kind, str(exc.detail)))
    log.exception("unexpected error in the Klarna dialect", exc_info=exc)
    return JSONResponse(error_body(INTERNAL, "An unexpected error occurred"), status_code=500)


_Base = dialect_route(_render, name="KlarnaBaseRoute")


class KlarnaRoute(_Base):  # type: ignore[misc, valid-type]
    """Every answer carries a fresh ``Klarna-Correlation-Id`` and echoes ``Partner-Correlation-Id``
    (REF-r6: "returned in the response"; a dashed UUID as real clients send is accepted)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            response: Response = await inner(request)
            response.headers["Klarna-Correlation-Id"] = str(uuid.uuid4())
            partner = request.headers.get("partner-correlation-id")
            if partner:
                response.headers["Partner-Correlation-Id"] = partner[:255]
            return response

        return handler


@dataclass(frozen=True, slots=True)
class Account:
    merchant_id: str
    partner_account_id: str


async def _basic(request: Request) -> Presented | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "basic" or not value:
        return None
    try:
        user = base64.b64decode(value, validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        user = ""
    return Presented((value, user))


def _lookup(kasse: Kasse, presented: Presented) -> Account | None:
    with kasse.read() as store:
        for candidate in presented.parts:
            found = store.find_klarna_account(hash_secret(candidate)) if candidate else None
            if found is not None:
                return Account(str(found["merchant_id"]), str(found["lookup"]))
    return None


def _missing() -> Exception:
    return KlarnaError(UNAUTHORIZED, "Missing credentials: send Authorization: Basic <API key>")


def _invalid(_: Presented) -> Exception:
    return KlarnaError(UNAUTHORIZED, "The presented credentials failed authentication")


authenticate = Authenticator[Account]("klarna_api_key", (_basic,), _lookup, _missing, _invalid)


async def _partner(request: Request, account: Annotated[Account, Depends(authenticate)]) -> Account:
    """The key's account, which is the only one it may act for (path or ``Klarna-Partner-Account``)."""
    for named in (request.path_params.get("partner_account_id"), request.headers.get("klarna-partner-account")):
        if named and named != account.partner_account_id:
            raise KlarnaError(FORBIDDEN, f"The API key may not act on behalf of the account {named}")
    return account


Partner = Annotated[Account, Depends(_partner)]


Body = Annotated[Any, Depends(json_body(lambda: KlarnaError.invalid("body", "not valid JSON")))]


def json_answer(status: int, body: Any) -> Response:
    return Response(status_code=status) if status == 204 else JSONResponse(body, status_code=status)


def idempotent(request: Request, account: Account, operation: Callable[[Tx], tuple[int, Any]]) -> Response:
    """Run a write in one unit of work under ``Klarna-Idempotency-Key``: for 24 hours the first answer
    is replayed whatever the body ("only the key matters", Klarna's idempotency pages). A key names one
    attempt of one operation: the path and the context token header are part of it (Kasse's choice, so
    the step-up call and the final authorize of one purchase may share a key, as public clients do)."""
    key = request.headers.get("klarna-idempotency-key")
    if key is not None and not 0 < len(key) <= 255:
        raise KlarnaError.invalid("Klarna-Idempotency-Key", "must be 1 to 255 characters")
    scoped = None
    if key is not None:
        token = next((request.headers[h] for h in CONTEXT_TOKENS if h in request.headers), "")
        parts = "\x1f".join((key, request.method, request.url.path, token))
        scoped = hashlib.sha256(parts.encode()).hexdigest()
    outcome = run_idempotent(
        kasse_of(request),
        merchant_id=account.merchant_id,
        scope="klarna",
        key=scoped,
        fingerprint="klarna",
        operation=operation,
        ttl_s=IDEMPOTENCY_TTL_S,
    )
    return json_answer(outcome.status, outcome.body)
