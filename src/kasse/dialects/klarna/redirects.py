"""Where Klarna sends the customer after the purchase journey: the partner's ``return_url`` with its
``{klarna.payment_request.*}`` placeholders filled (the ones public integrations use: ``id``, ``state``,
``payment_token``, ``klarna_network_session_token``, ``payment_request_reference``). Engine payments of
this dialect never visit the bank page, so ``payment_return_url`` has nothing to say."""

from __future__ import annotations

from urllib.parse import quote

from kasse.dialects.klarna.model import PaymentRequest
from kasse.domain.models import Payment
from kasse.domain.urls import safe_http_url

__all__ = ["payment_return_url", "request_return_url"]


def request_return_url(request: PaymentRequest) -> str | None:
    config = request.body.get("customer_interaction_config") or {}
    url = config.get("return_url") if isinstance(config, dict) else None
    if not isinstance(url, str):
        return None
    values = {
        "id": request.krn,
        "state": request.state.value,
        "payment_token": request.payment_token or "",
        "klarna_network_session_token": request.session_token or "",
        "payment_request_reference": request.reference or "",
    }
    for name, value in values.items():
        url = url.replace("{klarna.payment_request." + name + "}", quote(value, safe=""))
    return safe_http_url(url)


def payment_return_url(_payment: Payment, _outcome: str) -> str | None:
    return None
