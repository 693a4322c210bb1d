"""Browser-facing defences of the hosted pages: strict headers and a CSRF check on every form post."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "csrf_field", "csrf_ok", "csrf_value", "harden", "set_csrf_cookie"]

# The provider pages must not be framed (secuconnect says so; clickjacking a "pay" button is the risk).
# No script at all; only our own stylesheet. ``form-action`` is left out on purpose: Chromium applies it
# to the 303 that follows a form post, and that redirect goes to the shop's origin, which varies.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # The token in /pay/{token} is a bearer credential for the page: never leak it through Referer.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

CSRF_COOKIE = "kasse_csrf"
CSRF_FIELD = "csrf"
R = TypeVar("R", bound=Response)
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) produces


def harden(response: R) -> R:
    response.headers.update(HEADERS)
    return response


def csrf_value(request: Request) -> str:
    """The cookie's random value for a page view. An existing well-formed cookie is reused so two open
    tabs of the same payment do not invalidate each other; otherwise a fresh random value."""
    current = request.cookies.get(CSRF_COOKIE, "")
    return current if _TOKEN_SHAPE.fullmatch(current) else secrets.token_urlsafe(32)


def csrf_field(secret: bytes, page_token: str, cookie: str) -> str:
    """The form's value: the cookie's, bound to this payment's page and signed with the server's key.
    A value planted as a cookie (by a sibling subdomain, say) is useless without the key, and a form
    value of one payment does not work for another."""
    mac = hmac.new(secret, f"{page_token}.{cookie}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def set_csrf_cookie(response: Response, value: str, *, path: str, secure: bool) -> None:
    # Scoped to this payment's path; SameSite=Strict keeps other sites from sending it at all, and a
    # site that cannot read it cannot copy it into the form (double-submit cookie). ``Secure`` only over
    # HTTPS: the sandbox usually runs on plain http://127.0.0.1, where a Secure cookie would be dropped.
    response.set_cookie(CSRF_COOKIE, value, path=path, secure=secure, httponly=True, samesite="strict")


def csrf_ok(request: Request, submitted: object, *, secret: bytes, page_token: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not isinstance(submitted, str) or not _TOKEN_SHAPE.fullmatch(cookie):
        return False
    expected = csrf_field(secret, page_token, cookie)
    # compare_digest on bytes: it refuses non-ASCII str, which a hostile form could send.
    return hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "replace"))
