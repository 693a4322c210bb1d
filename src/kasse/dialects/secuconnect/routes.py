"""HTTP of secuconnect at ``/secuconnect``: ``POST /oauth/token`` and ``/api/v2/...`` (Smart Transactions,
Payment Transactions). Decode, call the engine, encode; every error in secuconnect's shape (errors.py)."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.secuconnect import checkout, oauth
from kasse.dialects.secuconnect import errors as e
from kasse.dialects.secuconnect.data import SecuData
from kasse.dialects.secuconnect.rules import RULES
from kasse.dialects.secuconnect.schemas import CancelIn, PrepareIn, SmartTransactionIn, TokenIn, parse
from kasse.dialects.secuconnect.translate import (
    check_status_out,
    payment_transaction_out,
    refund_transaction_out,
    smart_transaction_out,
)
from kasse.domain.errors import DomainError
from kasse.domain.models import Method
from kasse.edge.auth import Authenticator, Presented, bearer
from kasse.edge.errors import dialect_route
from kasse.edge.json import JSONResponse
from kasse.edge.request import base_url, json_body, kasse_of, targets_of
from kasse.engine import payments
from kasse.engine.unit import Kasse

__all__ = ["router"]

log = logging.getLogger(__name__)
ORIGIN = checkout.ORIGIN


def _render(exc: Exception) -> Response:
    if isinstance(exc, e.SecuError):
        return e.error_response(exc)
    if isinstance(exc, DomainError):
        return e.error_response(e.from_domain(exc))
    log.exception("unexpected error in the secuconnect dialect", exc_info=exc)
    return e.error_response(e.SecuError(e.INTERNAL, "Internal error"))


# Answers every error of these routes in secuconnect's shape, whatever raised it.
SecuRoute = dialect_route(_render, name="SecuRoute")
router = APIRouter(prefix="/secuconnect", route_class=SecuRoute, include_in_schema=False)


def _no_token(*_: object) -> Exception:
    return e.SecuError(e.AUTH_TOKEN, "Valid auth token required")


def _lookup(kasse: Kasse, presented: Presented) -> oauth.Account | None:
    return oauth.lookup_token(kasse, presented.secret)


# Tokens lapse on the merchant's clock: never cached (cache=False), checked on every request.
account = Authenticator[oauth.Account]("secuconnect_token", (bearer,), _lookup, _no_token, _no_token, cache=False)
Client = Annotated[oauth.Account, Depends(account)]


_json_body = json_body(lambda: e.SecuError(e.INVALID, "The request body is not valid JSON"))
Body = Annotated[Any, Depends(_json_body)]


async def _token_body(request: Request) -> Any:
    """JSON (pretix-secuconnect) or form-encoded (secuconnect's PHP SDK), by the Content-Type."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        try:
            return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise e.SecuError(e.INVALID, "The form body is not UTF-8") from None
    return await _json_body(request)


# --- OAuth ---------------------------------------------------------------------------------------


@router.post("/oauth/token")
def token(request: Request, payload: Annotated[Any, Depends(_token_body)]) -> Response:
    return JSONResponse(oauth.issue(kasse_of(request), parse(TokenIn, payload)))


# --- Smart Transactions --------------------------------------------------------------------------


def _command(body: SmartTransactionIn) -> tuple[payments.CreatePayment, SecuData]:
    context = body.application_context
    urls = context.return_urls.model_dump(exclude_none=True) if context and context.return_urls else {}
    data = SecuData(
        intent=body.intent, is_demo=bool(body.is_demo), contract=body.contract or {}, customer=body.customer or {},
        basket=body.basket or {}, basket_info=body.basket_info.model_dump(),
        merchant_ref=body.merchantRef, transaction_ref=body.transactionRef,
        application_context=context.model_dump(exclude_none=True) if context else {},
        payment_context=body.payment_context.model_dump(exclude_none=True) if body.payment_context else {},
        return_urls=urls,
    )  # fmt: skip
    cmd = payments.CreatePayment(
        amount_minor=body.basket_info.sum, currency=body.basket_info.currency.upper(), method=Method.SOFORT,
        origin=ORIGIN, description=body.merchantRef, reference=body.transactionRef,
        return_url=urls.get("url_success"), cancel_url=urls.get("url_abort"), provider_data=data.as_dict(),
    )  # fmt: skip
    return cmd, data


@router.post("/api/v2/Smart/Transactions")
def create_smart_transaction(request: Request, who: Client, payload: Body) -> Response:
    body = parse(SmartTransactionIn, payload)
    cmd, data = _command(body)
    payments.validate(cmd, RULES)  # before anything is written (rule 8)
    push = data.return_urls.get("url_push")
    # The webhook target policy, before the transaction (resolving a name must not hold it open).
    checked = targets_of(request).vet(push, param="application_context.return_urls.url_push") if push else None
    kasse = kasse_of(request)
    run = kasse.run_locked if checked else kasse.run  # one push endpoint per URL: find-or-create under lock
    payment = run(who.merchant_id, checkout.create, cmd, checked)
    return JSONResponse(smart_transaction_out(payment, base_url(request)))


@router.get("/api/v2/Smart/Transactions/{stx_id}")
def get_smart_transaction(request: Request, stx_id: str, who: Client) -> Response:
    with kasse_of(request).read() as store:
        payment = checkout.find_smart(store, who.merchant_id, stx_id)
    return JSONResponse(smart_transaction_out(payment, base_url(request)))


@router.post("/api/v2/Smart/Transactions/{stx_id}/prepare/{method}")
def prepare(request: Request, stx_id: str, method: str, who: Client, payload: Body) -> Response:
    body = parse(PrepareIn, payload)
    given = body.callback_urls.model_dump(exclude_none=True) if body.callback_urls else {}
    callbacks = {k: v for k, v in given.items() if v}
    payment = kasse_of(request).run(who.merchant_id, checkout.prepare, stx_id, method, callbacks)
    return JSONResponse(smart_transaction_out(payment, base_url(request)))


@router.post("/api/v2/Smart/Transactions/{stx_id}/cancel")
@router.post("/api/v2/Smart/Transactions/{stx_id}/abort")
def abort(request: Request, stx_id: str, who: Client) -> Response:
    payment = kasse_of(request).run(who.merchant_id, checkout.abort, stx_id)
    return JSONResponse(smart_transaction_out(payment, base_url(request)))


# --- Payment Transactions ------------------------------------------------------------------------


@router.get("/api/v2/Payment/Transactions/{pci_id}")
def get_payment_transaction(request: Request, pci_id: str, who: Client) -> Response:
    with kasse_of(request).read() as store:
        payment, child = checkout.find_transaction(store, who.merchant_id, pci_id)
        found = store.refunds_of(merchant_id=who.merchant_id, payment_id=payment.id)
    if child is not None:
        return JSONResponse(refund_transaction_out(payment, child))
    return JSONResponse(payment_transaction_out(payment, found))


@router.get("/api/v2/Payment/Transactions/{pci_id}/checkStatus")
def check_status(request: Request, pci_id: str, who: Client) -> Response:
    with kasse_of(request).read() as store:
        payment, child = checkout.find_transaction(store, who.merchant_id, pci_id)
    if child is not None:
        raise e.SecuError(e.NOT_ALLOWED, f"{pci_id} is a refund; check its parent transaction")
    return JSONResponse(check_status_out(payment))


@router.post("/api/v2/Payment/Transactions/{pci_id}/cancel")
def cancel_payment_transaction(request: Request, pci_id: str, who: Client, payload: Body) -> Response:
    body = parse(CancelIn, payload)
    amount = body.reduce_amount_by if body.reduce_amount_by is not None else body.amount
    listed = kasse_of(request).run(who.merchant_id, checkout.refund, pci_id, amount, body.reason)
    return JSONResponse(listed)


@router.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@router.api_route("/oauth/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request: Request, rest: str) -> Response:
    """Anything else of the API is answered in secuconnect's shape too (not offered by Kasse); the Sofort
    page under ``/secuconnect/payment`` is another router."""
    raise e.SecuError(e.NOT_FOUND, f"Not found: {request.url.path}")
