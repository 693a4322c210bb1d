"""Front doors: each dialect decodes a provider's wire format, calls the engine, encodes the result.

Registry of per-origin hooks the shared parts (hosted pages, delivery) call without knowing dialects.
"""

from __future__ import annotations

from collections.abc import Callable

from kasse.domain.models import Payment
from kasse.domain.urls import safe_http_url

__all__ = ["ReturnUrl", "register_return_url", "return_url_for"]

# (payment, outcome) → where the hosted page sends the customer; outcome is the payment status after
# the customer acted ("authorized", "processing", "failed", "canceled", ...).
ReturnUrl = Callable[[Payment, str], str | None]
_RETURN_URLS: dict[str, ReturnUrl] = {}


def register_return_url(origin: str, builder: ReturnUrl) -> None:
    _RETURN_URLS[origin] = builder


def return_url_for(payment: Payment, outcome: str) -> str | None:
    """Never anything but an http(s) URL, even from a row stored before the check at creation existed:
    the hosted pages then show their own result page instead of redirecting."""
    builder = _RETURN_URLS.get(payment.origin)
    if builder is not None:
        return safe_http_url(builder(payment, outcome))
    if outcome == "canceled":
        return safe_http_url(payment.cancel_url or payment.return_url)
    return safe_http_url(payment.return_url)
