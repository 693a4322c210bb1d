"""The Klarna widget behind PAYONE's Klarna checkout, served by Kasse: the Klarna Payments library at
``/klarna/kp/lib/v1/api.js`` (``static/api.js``) with its badge, the two calls it makes
(``/klarna/kp/v1/session``, ``/klarna/kp/v1/authorize``), and ``POST /_sandbox/klarna/authorize`` — the
customer's answer for tests without a browser (the merchant's secret key, like all of ``/_sandbox``).

A shop page on another origin loads the library and calls Kasse: the calls are "simple" requests
(``text/plain`` JSON) answered with ``Access-Control-Allow-Origin: *``; the client token is what
authorizes them (unguessable, and it names its merchant and session).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.payone import errors as e
from kasse.dialects.payone import ids, sessions
from kasse.dialects.payone.translate import CATEGORIES
from kasse.domain.errors import DomainError
from kasse.edge.auth import Authenticator, bearer, merchant_of_secret_key
from kasse.edge.json import JSONResponse
from kasse.edge.request import kasse_of
from kasse.engine.unit import Kasse

__all__ = ["router"]

STATIC = Path(__file__).parent / "static"
_CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}
_FILES = {"api.js": "application/javascript; charset=utf-8", "badge.svg": "image/svg+xml"}

router = APIRouter(include_in_schema=False)


@router.get("/klarna/kp/lib/v1/{name}")
def library(name: str) -> Response:
    if name not in _FILES:
        return Response(status_code=404)
    headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}
    return Response((STATIC / name).read_bytes(), media_type=_FILES[name], headers=headers)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status, headers=_CORS)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if len(raw) <= 10_000 else None
    except (ValueError, UnicodeDecodeError):
        body = None
    return body if isinstance(body, dict) else {}


def _claims(body: dict[str, Any]) -> tuple[str, str, str] | None:
    token = body.get("client_token")
    claims = ids.token_claims(token) if isinstance(token, str) else None
    if claims is None or not isinstance(token, str):
        return None
    return claims["merchant_id"], claims["session_id"], token


def _session_view(kasse: Kasse, merchant_id: str, session_id: str, token: str) -> dict[str, Any] | None:
    with kasse.read() as store:
        session = store.find_payone_session(merchant_id=merchant_id, session_id=session_id)
    if session is None or session.client_token != token:
        return None
    identifier, name = CATEGORIES[session.financingtype]
    return {"amount": session.amount_minor, "currency": session.currency, "category": identifier,
            "category_name": name, "status": session.status}  # fmt: skip


@router.post("/klarna/kp/v1/session")
async def session_info(request: Request) -> Response:
    found = _claims(await _body(request))
    view = None if found is None else await run_in_threadpool(_session_view, kasse_of(request), *found)
    if view is None:
        return _error(400, "Unknown client_token")
    return JSONResponse(view, headers=_CORS)


def _authorize(kasse: Kasse, merchant_id: str, session_id: str, token: str, approve: bool) -> Response:
    try:
        answer = kasse.run(merchant_id, sessions.widget_authorize, session_id, token, approve)
    except e.PayoneError as exc:
        return _error(400, exc.message)
    except DomainError as exc:
        return _error(400, exc.message)
    return JSONResponse(answer.as_dict(), headers=_CORS)


async def _answer(request: Request, merchant_id: str | None) -> Response:
    body = await _body(request)
    found, approve = _claims(body), body.get("approve")
    if found is None or (merchant_id is not None and found[0] != merchant_id):
        return _error(400, "Unknown client_token")
    if not isinstance(approve, bool):
        return _error(400, "approve must be true or false")
    return await run_in_threadpool(_authorize, kasse_of(request), *found, approve)


@router.post("/klarna/kp/v1/authorize")
async def widget_authorize(request: Request) -> Response:
    return await _answer(request, None)


def _no_key(*_: object) -> Exception:
    return e.PayoneError(e.PARAMETER, "Invalid API key provided")


secret_key = Authenticator[str]("secret_key", (bearer,), merchant_of_secret_key, _no_key, _no_key)


@router.post("/_sandbox/klarna/authorize")
async def sandbox_authorize(request: Request) -> Response:
    """``{"client_token": …, "approve": true|false}`` → the widget's answer, as if the customer clicked."""
    try:
        merchant_id = await secret_key(request)
    except e.PayoneError:
        return _error(401, "Invalid API key provided")
    return await _answer(request, merchant_id)
