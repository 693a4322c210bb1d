"""The dashboard's (and the home page's) HTML: Jinja2 templates with their CSS inline, no CDN, no
external request of any kind; strict headers on every answer (no framing, scripts and styles only with
this response's nonce)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from kasse import __version__
from kasse.domain.money import format_money

__all__ = ["page", "stamp"]


def stamp(value: datetime | None) -> str:
    """``2026-12-01 10:02:29 UTC``: to the second, always UTC (the merchant's clock is UTC too)."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _money(amount_minor: int | None, currency: str) -> str:
    return "" if amount_minor is None else format_money(amount_minor, currency)


_ENV = Environment(loader=PackageLoader("kasse.web.dashboard", "templates"), autoescape=select_autoescape(["html"]))
_ENV.filters.update(money=_money, stamp=stamp)
_ENV.globals.update(version=__version__)


def _headers(nonce: str) -> dict[str, str]:
    policy = "; ".join(
        [
            "default-src 'none'",
            f"style-src 'nonce-{nonce}'",
            f"script-src 'nonce-{nonce}'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    html = _ENV.get_template(template).render(request=request, nonce=nonce, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers=_headers(nonce))
