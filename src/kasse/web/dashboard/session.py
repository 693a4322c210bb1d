"""Signing in to the dashboard: a merchant's secret key buys an HMAC-signed session cookie (HttpOnly,
SameSite=Lax); every form carries a CSRF token derived from the session, checked on every POST.

The signing key is the merchant's page secret (``kasse.engine.merchants.page_secret``), kept in the
database, so every Kasse process sharing it accepts the same cookie."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from kasse.edge.request import kasse_of
from kasse.engine import merchants

__all__ = ["COOKIE", "Session", "csrf_ok", "current_session", "sign_in", "sign_out"]

COOKIE = "kasse_dashboard"
_SHAPE = re.compile(r"(mer_[A-Za-z0-9_]{1,36})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class Session:
    merchant_id: str
    csrf: str  # the value every form of this session must send back


def _mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _key(request: Request, merchant_id: str) -> bytes:
    return _mac(merchants.page_secret(kasse_of(request), merchant_id=merchant_id), "dashboard").encode()


def current_session(request: Request) -> Session | None:
    """The signed-in merchant, or None (no cookie, a forged one, or one of a merchant that is gone)."""
    found = _SHAPE.fullmatch(request.cookies.get(COOKIE, ""))
    if found is None:
        return None
    merchant_id, nonce, mac = found.groups()
    with kasse_of(request).read() as store:
        if store.get_merchant(merchant_id=merchant_id) is None:
            return None
    key = _key(request, merchant_id)
    if not hmac.compare_digest(_mac(key, f"session.{merchant_id}.{nonce}").encode(), mac.encode()):
        return None
    return Session(merchant_id, _mac(key, f"csrf.{nonce}"))


def sign_in(request: Request, response: Response, merchant_id: str) -> None:
    nonce = secrets.token_urlsafe(16)
    mac = _mac(_key(request, merchant_id), f"session.{merchant_id}.{nonce}")
    response.set_cookie(
        COOKIE, f"{merchant_id}.{nonce}.{mac}", path="/dashboard", httponly=True, samesite="lax",
        secure=request.url.scheme == "https",
    )  # fmt: skip


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/dashboard")


def csrf_ok(session: Session, submitted: str | None) -> bool:
    return isinstance(submitted, str) and hmac.compare_digest(
        session.csrf.encode(), submitted.encode("utf-8", "replace")
    )
