"""HTTP of PAYONE's Server API at ``/payone/post-gateway/``: one endpoint, form-encoded (UTF-8, or what
``encoding`` names; shopware-6's curl sends multipart), credentials in the body, dispatched on
``request=``. Every answer is HTTP 200: ``key=value`` lines, or PAYONE's CamelCase JSON when ``Accept``
asks for ``application/json`` (``kasse.codecs.keyvalue``). Errors are ``status=ERROR`` with the
customer message in the request's ``language``.

``/payone/redirect/{token}`` is the ``redirecturl`` of a Klarna reservation: it sends the customer on to
the shop's URL for the outcome, without any action (seed 003).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from kasse.codecs import keyvalue
from kasse.dialects.payone import authorize, booking, generic, schemas
from kasse.dialects.payone import errors as e
from kasse.dialects.payone.auth import Account, authenticate
from kasse.dialects.payone.redirects import payone_return_url
from kasse.domain.errors import DomainError
from kasse.domain.urls import safe_http_url
from kasse.edge.errors import dialect_route
from kasse.edge.request import base_url, kasse_of
from kasse.engine.unit import Kasse

__all__ = ["ORIGIN", "error_response", "router"]

log = logging.getLogger(__name__)
ORIGIN = "payone"
MAX_BODY_BYTES = 1_000_000


def _render(exc: Exception) -> Response:
    """Anything a route raised outside the handler's own answer (never a 500 page)."""
    log.exception("unexpected error in the PAYONE dialect", exc_info=exc)
    return _lines(e.error_fields(e.PayoneError(e.INTERNAL, "Internal error", "internal"), None))


router = APIRouter(route_class=dialect_route(_render, name="PayoneRoute"), include_in_schema=False)

Handler = Callable[[Kasse, Account, schemas.Form, str], dict[str, str]]
_REQUESTS: dict[str, Handler] = {
    "genericpayment": generic.genericpayment,
    "preauthorization": authorize.authorize,
    "authorization": authorize.authorize,
    "capture": lambda kasse, who, form, url: booking.capture(kasse, who, form),
    "debit": lambda kasse, who, form, url: booking.debit(kasse, who, form),
    "refund": lambda kasse, who, form, url: booking.debit(kasse, who, form),
}


def _lines(fields: dict[str, str]) -> Response:
    return PlainTextResponse(keyvalue.encode_lines(fields), media_type="text/plain; charset=UTF-8")


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        async with request.form() as form:
            return {k: v for k, v in form.items() if isinstance(v, str)}
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise e.parameter("request", "the request is too large")
    # ``encoding`` is plain ASCII in every encoding PAYONE accepts: find it before decoding the body.
    latin = b"encoding=ISO-8859-1" in body.split(b"&")
    try:
        return keyvalue.decode_form(body, "latin-1" if latin else "utf-8")
    except DomainError:
        raise e.parameter("encoding", "the body is not valid " + ("ISO-8859-1" if latin else "UTF-8")) from None


def _answer(kasse: Kasse, form: dict[str, str], url: str) -> dict[str, str]:
    try:
        schemas.check(form)
        who = authenticate(kasse, form)
        return _REQUESTS[schemas.required(form, "request")](kasse, who, form, url)
    except e.PayoneError as exc:
        return e.error_fields(exc, form.get("language"))
    except DomainError as exc:
        return e.error_fields(e.from_domain(exc), form.get("language"))


def error_response(exc: DomainError, accept: str | None, language: str | None = None) -> Response:
    """An engine error as PAYONE answers it: HTTP 200, ``status=ERROR``."""
    return _respond(e.error_fields(e.from_domain(exc), language), accept)


def _respond(fields: dict[str, Any], accept: str | None) -> Response:
    if keyvalue.negotiate(accept) == "json":
        return Response(keyvalue.encode_json(fields), media_type="application/json")
    return _lines(fields)


@router.post("/payone/post-gateway/")
@router.post("/payone/post-gateway")
async def gateway(request: Request) -> Response:
    try:
        form = await _form(request)
    except e.PayoneError as exc:
        return _respond(e.error_fields(exc, None), request.headers.get("accept"))
    fields = await run_in_threadpool(_answer, kasse_of(request), form, base_url(request))
    return _respond(fields, request.headers.get("accept"))


@router.get("/payone/redirect/{token}")
def redirect(request: Request, token: str) -> Response:
    with kasse_of(request).read() as store:
        payment = store.find_payment_by_token(token) if len(token) <= 100 else None
    target = None
    if payment is not None and payment.origin == ORIGIN:
        target = safe_http_url(payone_return_url(payment, payment.status.value))
    if target is None:
        return PlainTextResponse("Unknown or finished PAYONE redirect", status_code=404)
    return RedirectResponse(target, status_code=303)
