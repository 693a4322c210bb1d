"""HTTP of payment requests and the Payment Authorize API under ``/klarna/v2``: decode, run one use case
in the engine, encode. Each route answers at the unscoped path (``/v2/payment/…``, the account is the
key's) and at the account-scoped one (``/v2/accounts/{partner_account_id}/payment/…``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.klarna import authorize as authorizing
from kasse.dialects.klarna import requests
from kasse.dialects.klarna.errors import NOT_FOUND, KlarnaError
from kasse.dialects.klarna.rules import RULES
from kasse.dialects.klarna.schemas import AuthorizeIn, PaymentRequestIn, PaymentRequestUpdate, TransactionRequest, parse
from kasse.dialects.klarna.translate import request_out
from kasse.dialects.klarna.wire import Body, KlarnaRoute, Partner, idempotent
from kasse.edge.json import JSONResponse
from kasse.edge.request import base_url, kasse_of
from kasse.engine import payments
from kasse.engine.unit import Tx

__all__ = ["both", "fallback", "router"]

router = APIRouter(prefix="/klarna/v2", route_class=KlarnaRoute, include_in_schema=False)
# Mounted after every other router of the dialect: the rest of /klarna/v2 in Klarna's shape.
fallback = APIRouter(prefix="/klarna/v2", route_class=KlarnaRoute, include_in_schema=False)
ACCOUNT = "/accounts/{partner_account_id}"


def both(target: APIRouter, method: str, path: str, status: int = 200) -> Callable[[Callable[..., Any]], Any]:
    """Route a handler at ``path`` and at its account-scoped twin."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        for full in (path, ACCOUNT + path):
            target.add_api_route(full, handler, methods=[method], status_code=status)
        return handler

    return register


# --- payment requests ------------------------------------------------------------------------------


def _new_request(tx: Tx, body: PaymentRequestIn) -> requests.PaymentRequest:
    config = body.customer_interaction_config or body.config
    new = requests.NewRequest(
        currency=body.currency.upper(),
        amount_minor=body.amount,
        reference=body.payment_request_reference or body.payment_reference,
        body=authorizing.request_body(body, config),
        expires_in_s=authorizing.expiry_s(tx, config),
    )
    if new.amount_minor is not None:
        wanted = TransactionRequest(amount=new.amount_minor)
        payments.validate(authorizing.transaction_command(new.currency, wanted, None), RULES)
    return requests.create(tx, new)


@both(router, "POST", "/payment/requests", 201)
def create_request(request: Request, who: Partner, payload: Body) -> Response:
    body = parse(PaymentRequestIn, payload)
    url = base_url(request)
    return idempotent(request, who, lambda tx: (201, request_out(_new_request(tx, body), url)))


@both(router, "GET", "/payment/requests/{payment_request_id}")
def read_request(request: Request, payment_request_id: str, who: Partner) -> Response:
    found = kasse_of(request).run(who.merchant_id, _read, payment_request_id)
    return JSONResponse(request_out(found, base_url(request)))


def _read(tx: Tx, payment_request_id: str) -> requests.PaymentRequest:
    return requests.get(tx, payment_request_id, for_update=False)


@both(router, "PUT", "/payment/requests/{payment_request_id}")
def update_request(request: Request, payment_request_id: str, who: Partner, payload: Body) -> Response:
    body = parse(PaymentRequestUpdate, payload)
    changes = body.model_dump(exclude_unset=True, mode="json")
    changes.pop("config", None)
    config = body.customer_interaction_config or body.config
    if config is not None:
        changes["customer_interaction_config"] = config.model_dump(mode="json", exclude_none=True)
    if "currency" in changes:
        changes["currency"] = str(changes["currency"]).upper()
    url = base_url(request)
    return idempotent(
        request, who, lambda tx: (200, request_out(requests.update(tx, payment_request_id, changes), url))
    )


@both(router, "DELETE", "/payment/requests/{payment_request_id}")
def cancel_request(request: Request, payment_request_id: str, who: Partner) -> Response:
    found = kasse_of(request).run(who.merchant_id, requests.cancel, payment_request_id)
    return JSONResponse(request_out(found, base_url(request)))


# --- Payment Authorize (seed 004) ------------------------------------------------------------------


@both(router, "POST", "/payment/authorize")
def authorize(request: Request, who: Partner, payload: Body) -> Response:
    body = parse(AuthorizeIn, payload)
    sent = [h for h in authorizing.TOKEN_HEADERS if request.headers.get(h)]
    if len(sent) > 1:
        raise KlarnaError.invalid(sent[1], f"send at most one context token (also got {sent[0]})")
    header = sent[0] if sent else None
    call = authorizing.AuthorizeCall(body, header, request.headers.get(header) if header else None, base_url(request))
    return idempotent(request, who, lambda tx: authorizing.authorize(tx, call))


@fallback.api_route("/{rest:path}", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
def not_found(rest: str) -> Response:
    """Anything else under /klarna/v2 (Kasse does not serve it) is answered in Klarna's shape."""
    raise KlarnaError(NOT_FOUND, f"Not found: /v2/{rest}")
