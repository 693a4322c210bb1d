"""HTTP handlers of the Stripe dialect's Refunds: created on a charge (top-level or nested, and the
legacy ``/charges/{id}/refund`` that answers the charge), retrieved, listed with Stripe's filters, and
the cancel Stripe refuses for a refund that is not waiting on the customer (Sofort refunds never are)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from kasse.dialects.stripe import schemas
from kasse.dialects.stripe.expand import Expander, Paths, expand_in
from kasse.dialects.stripe.fields import check_known
from kasse.dialects.stripe.listing import cursors, exists, list_in
from kasse.dialects.stripe.loaders import ORIGIN, charge_of, find_charge, find_refund, refund_of
from kasse.dialects.stripe.wire import MerchantId, Params, StripeRoute, list_body, post
from kasse.domain.errors import DomainError, ErrorCode, InvalidRequest, NotFound
from kasse.edge.json import JSONResponse
from kasse.edge.request import base_url, kasse_of
from kasse.engine import refunds
from kasse.engine.unit import Tx
from kasse.storage.store import Store

__all__ = ["router"]

router = APIRouter(prefix="/stripe/v1", route_class=StripeRoute, include_in_schema=False)


def _expand(store: Store, request: Request, merchant_id: str, obj: dict[str, Any], paths: Paths) -> dict[str, Any]:
    return Expander(store, merchant_id, base_url(request)).apply(obj, paths)


def _refund(tx: Tx, merchant_id: str, body: schemas.RefundIn, param: str | None) -> dict[str, Any]:
    assert body.charge is not None
    capture = find_charge(tx.store, merchant_id, body.charge, param=param)
    try:
        refund = refunds.create_refund(
            tx, capture.payment_id, amount_minor=body.amount, reason=body.reason, metadata=body.metadata
        )
    except DomainError as exc:
        # The engine speaks of its payment; the shop knows the charge.
        exc.message = exc.message.replace(f"Payment {capture.payment_id}", f"Charge {body.charge}")
        exc.args = (exc.message,)
        raise
    return refund_of(tx.store, refund)


def _create(request: Request, merchant_id: str, params: dict[str, Any], charge: str | None) -> JSONResponse:
    body = schemas.refund_in(params, charge=charge)
    paths = expand_in(params, "refund")
    param = "charge" if charge is None else "id"

    def operation(tx: Tx) -> dict[str, Any]:
        return _expand(tx.store, request, merchant_id, _refund(tx, merchant_id, body, param), paths)

    return post(request, merchant_id, params, operation)


@router.post("/refunds")
def create_refund(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    return _create(request, merchant_id, params, None)


@router.post("/charges/{charge_id}/refunds")
def create_charge_refund(request: Request, charge_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    return _create(request, merchant_id, params, charge_id)


@router.post("/charges/{charge_id}/refund")
def refund_charge_legacy(request: Request, charge_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    """The legacy endpoint answers with the charge, not the refund."""
    body = schemas.refund_in(params, charge=charge_id)
    paths = expand_in(params, "charge")

    def operation(tx: Tx) -> dict[str, Any]:
        _refund(tx, merchant_id, body, "id")
        charge = charge_of(tx.store, find_charge(tx.store, merchant_id, charge_id), base_url(request))
        return _expand(tx.store, request, merchant_id, charge, paths)

    return post(request, merchant_id, params, operation)


@router.get("/charges/{charge_id}/refunds/{refund_id}")
def get_charge_refund(
    request: Request, charge_id: str, refund_id: str, merchant_id: MerchantId, params: Params
) -> JSONResponse:
    check_known(params, {"expand"})
    paths = expand_in(params, "refund")
    with kasse_of(request).read() as store:
        capture = find_charge(store, merchant_id, charge_id)
        refund = find_refund(store, merchant_id, refund_id)
        if refund.payment_id != capture.payment_id:
            raise NotFound("refund", refund_id, param="id")
        return JSONResponse(_expand(store, request, merchant_id, refund_of(store, refund), paths))


@router.get("/refunds/{refund_id}")
def get_refund(request: Request, refund_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    check_known(params, {"expand"})
    paths = expand_in(params, "refund")
    with kasse_of(request).read() as store:
        refund = refund_of(store, find_refund(store, merchant_id, refund_id))
        return JSONResponse(_expand(store, request, merchant_id, refund, paths))


@router.post("/refunds/{refund_id}/cancel")
def cancel_refund(request: Request, refund_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    """Stripe cancels only a refund in ``requires_action`` (one waiting on the customer's details); a Sofort
    refund never is, so Stripe's refusal is the only answer."""
    check_known(params, {"expand"})
    expand_in(params, "refund")
    with kasse_of(request).read() as store:
        refund = refund_of(store, find_refund(store, merchant_id, refund_id))
    raise InvalidRequest(
        ErrorCode.PARAMETER_INVALID,
        f"Refund {refund_id} cannot be canceled: its status is {refund['status']}; only a refund with the "
        "status requires_action can be canceled.",
    )


def _list(request: Request, merchant_id: str, params: dict[str, Any], charge: str | None, url: str) -> JSONResponse:
    nested = charge is not None
    page_in = list_in(params, () if nested else ("charge", "payment_intent"), created=not nested)
    paths = expand_in(params, "list:refund")
    charge = charge or page_in.filters.get("charge")
    with kasse_of(request).read() as store:
        payment_id = None
        if charge is not None:
            payment_id = find_charge(store, merchant_id, charge, param="id" if nested else "charge").payment_id
        after, before = cursors(page_in, "refund", lambda i: exists(lambda: find_refund(store, merchant_id, i).id))
        if "payment_intent" in page_in.filters:  # Kasse's refunds have no PaymentIntent
            return JSONResponse(list_body(url, [], False))
        page = store.list_refunds_of_origin(
            merchant_id=merchant_id, origin=ORIGIN, limit=page_in.limit, payment_id=payment_id,
            starting_after=after, ending_before=before, created=page_in.created,
        )  # fmt: skip
        items = [refund_of(store, r) for r in page.items]
        return JSONResponse(_expand(store, request, merchant_id, list_body(url, items, page.has_more), paths))


@router.get("/refunds")
def list_refunds(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    return _list(request, merchant_id, params, None, "/v1/refunds")


@router.get("/charges/{charge_id}/refunds")
def list_charge_refunds(request: Request, charge_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    return _list(request, merchant_id, params, charge_id, f"/v1/charges/{charge_id}/refunds")
