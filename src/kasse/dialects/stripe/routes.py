"""HTTP handlers of the Stripe dialect: Sources, Charges, Refunds. Decode, call the engine, encode."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from kasse.dialects.stripe import schemas
from kasse.dialects.stripe import translate as out
from kasse.dialects.stripe.data import StripeChargeData, StripeSourceData
from kasse.dialects.stripe.errors import StripeCode, StripeRefusal
from kasse.dialects.stripe.ledger import balance_transaction
from kasse.dialects.stripe.loaders import ORIGIN, charge_of, find_charge, find_refund, find_source, refund_of
from kasse.dialects.stripe.wire import MerchantId, Params, StripeRoute, post, stripe_list
from kasse.domain.errors import ErrorCode, InvalidRequest, NotFound
from kasse.domain.ids import new_token
from kasse.domain.models import Capture, CaptureMethod, Method
from kasse.edge.request import base_url, kasse_of
from kasse.engine import captures, payments, refunds
from kasse.engine.unit import Tx
from kasse.storage.store import Store

__all__ = ["router"]

router = APIRouter(prefix="/stripe/v1", route_class=StripeRoute, include_in_schema=False)


# --- sources ----------------------------------------------------------------------------------------


@router.post("/sources")
def create_source(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    src = schemas.source_in(params)
    cmd = payments.CreatePayment(
        amount_minor=src.amount, currency=src.currency, method=Method.SOFORT, origin=ORIGIN, country=src.country,
        return_url=src.return_url, metadata=src.metadata,
        # The bank page speaks sofort[preferred_language] when it can (Kasse's pages: de, en).
        customer={**src.owner, **({"locale": src.preferred_language} if src.preferred_language else {})},
        provider_data=StripeSourceData(
            client_secret="src_client_secret_" + new_token(18), preferred_language=src.preferred_language,
            statement_descriptor=src.statement_descriptor,
        ).as_dict(),
        capture_method=CaptureMethod.MANUAL, scenario=src.scenario,
    )  # fmt: skip
    return post(
        request, merchant_id, params, lambda tx: out.source_out(payments.create_payment(tx, cmd), base_url(request))
    )


@router.get("/sources/{source_id}")
def get_source(request: Request, source_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        payment = find_source(store, merchant_id, source_id)
    return JSONResponse(out.source_out(payment, base_url(request)))


@router.post("/sources/{source_id}")
def update_source(request: Request, source_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    """Metadata and owner may change (Stripe: "updates the specified source by setting the values of the
    parameters passed")."""
    schemas.check_known(params, {"metadata", "owner", "expand"})
    metadata, owner = schemas.metadata_in(params), schemas.owner_in(params)

    def operation(tx: Tx) -> dict[str, Any]:
        payment = find_source(tx.store, merchant_id, source_id)
        updated = payments.update_details(tx, payment.id, metadata=metadata, customer=owner)
        return out.source_out(updated, base_url(request))

    return post(request, merchant_id, params, operation)


# --- charges ----------------------------------------------------------------------------------------


def _charge(tx: Tx, merchant_id: str, body: schemas.ChargeIn) -> Capture:
    payment = find_source(tx.store, merchant_id, body.source, param="source")
    status = out.source_status(payment)
    if status == "consumed":
        raise StripeRefusal(
            StripeCode.INVALID_SOURCE_USAGE,
            f"The source {body.source} has already been used in a charge; Sofort sources are single_use.",
            param="source",
        )
    if status != "chargeable":
        raise StripeRefusal(
            StripeCode.SOURCE_NOT_CHARGEABLE, f"The source {body.source} is {status}, not chargeable.", param="source"
        )
    if body.currency != payment.currency:
        raise InvalidRequest(
            ErrorCode.INVALID_CURRENCY, f"The charge currency must match the source's ({payment.currency.lower()})",
            param="currency",
        )  # fmt: skip
    if body.amount != payment.amount_minor:
        raise StripeRefusal(
            StripeCode.INVALID_CHARGE_AMOUNT,
            f"The charge amount must match the single-use source's amount ({payment.amount_minor})",
            param="amount",
        )
    charge = StripeChargeData(body.description, dict(body.metadata))
    payments.update_details(tx, payment.id, provider_data=StripeSourceData.of(payment).with_charge(charge).as_dict())
    return captures.capture(tx, payment.id)


@router.post("/charges")
def create_charge(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    body = schemas.charge_in(params)
    expand = schemas.expand_in(params)

    def operation(tx: Tx) -> dict[str, Any]:
        charge = charge_of(tx.store, _charge(tx, merchant_id, body), base_url(request))
        return _expanded(tx.store, merchant_id, charge, expand)

    return post(request, merchant_id, params, operation)


def _expanded(store: Store, merchant_id: str, charge: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    for name in ("balance_transaction", "failure_balance_transaction"):
        if name in expand and isinstance(charge.get(name), str):
            charge[name] = balance_transaction(store, merchant_id, charge[name])
    return charge


@router.get("/charges/{charge_id}")
def get_charge(request: Request, charge_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    expand = schemas.expand_in(params)
    with kasse_of(request).read() as store:
        charge = charge_of(store, find_charge(store, merchant_id, charge_id), base_url(request))
        return JSONResponse(_expanded(store, merchant_id, charge, expand))


@router.post("/charges/{charge_id}")
def update_charge(request: Request, charge_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    schemas.check_known(params, {"metadata", "description", "expand"})
    metadata = schemas.metadata_in(params)
    description = params.get("description")

    def operation(tx: Tx) -> dict[str, Any]:
        capture = find_charge(tx.store, merchant_id, charge_id)
        payment = payments.get_payment(tx, capture.payment_id)
        data = StripeSourceData.of(payment)
        charge = data.charge or StripeChargeData()
        merged = {**charge.metadata, **metadata}
        charge = replace(charge, metadata={k: v for k, v in merged.items() if v is not None})
        if isinstance(description, str):
            charge = replace(charge, description=description or None)
        payment = payments.update_details(tx, payment.id, provider_data=data.with_charge(charge).as_dict())
        return charge_of(tx.store, capture, base_url(request), payment=payment)

    return post(request, merchant_id, params, operation)


@router.get("/charges")
def list_charges(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    page_in = schemas.list_in(params)
    with kasse_of(request).read() as store:
        page = store.list_captures_of_origin(
            merchant_id=merchant_id, origin=ORIGIN, limit=page_in.limit,
            starting_after=_cursor(page_in.starting_after, "ch"), ending_before=_cursor(page_in.ending_before, "ch"),
        )  # fmt: skip
        items = [charge_of(store, c, base_url(request)) for c in page.items]
    return stripe_list("/v1/charges", items, page.has_more)


def _cursor(value: str | None, prefix: str) -> str | None:
    if value is None:
        return None
    found = out.kasse_id(value, prefix)
    if found is None:
        raise StripeRefusal(StripeCode.RESOURCE_MISSING, f"No such object: '{value}'", param="starting_after")
    return found


# --- refunds ----------------------------------------------------------------------------------------


def _refund(tx: Tx, merchant_id: str, body: schemas.RefundIn, param: str | None) -> dict[str, Any]:
    assert body.charge is not None
    capture = find_charge(tx.store, merchant_id, body.charge, param=param)
    refund = refunds.create_refund(
        tx, capture.payment_id, amount_minor=body.amount, reason=body.reason, metadata=body.metadata
    )
    return refund_of(tx.store, refund)


@router.post("/refunds")
def create_refund(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    body = schemas.refund_in(params)
    return post(request, merchant_id, params, lambda tx: _refund(tx, merchant_id, body, "charge"))


@router.post("/charges/{charge_id}/refunds")
def create_charge_refund(request: Request, charge_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    body = schemas.refund_in(params, charge=charge_id)
    return post(request, merchant_id, params, lambda tx: _refund(tx, merchant_id, body, "id"))


@router.post("/charges/{charge_id}/refund")
def refund_charge_legacy(request: Request, charge_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    """The legacy endpoint answers with the charge, not the refund."""
    body = schemas.refund_in(params, charge=charge_id)

    def operation(tx: Tx) -> dict[str, Any]:
        _refund(tx, merchant_id, body, "id")
        return charge_of(tx.store, find_charge(tx.store, merchant_id, charge_id), base_url(request))

    return post(request, merchant_id, params, operation)


@router.get("/charges/{charge_id}/refunds/{refund_id}")
def get_charge_refund(request: Request, charge_id: str, refund_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        capture = find_charge(store, merchant_id, charge_id)
        refund = find_refund(store, merchant_id, refund_id)
        if refund.payment_id != capture.payment_id:
            raise NotFound("refund", refund_id, param="id")
        return JSONResponse(refund_of(store, refund))


@router.get("/refunds/{refund_id}")
def get_refund(request: Request, refund_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        return JSONResponse(refund_of(store, find_refund(store, merchant_id, refund_id)))


def _list_refunds(
    request: Request, merchant_id: str, params: dict[str, Any], charge: str | None, url: str
) -> JSONResponse:
    page_in = schemas.list_in(params)
    with kasse_of(request).read() as store:
        payment_id = None if charge is None else find_charge(store, merchant_id, charge, param="charge").payment_id
        page = store.list_refunds_of_origin(
            merchant_id=merchant_id, origin=ORIGIN, limit=page_in.limit, payment_id=payment_id,
            starting_after=_cursor(page_in.starting_after, "re"), ending_before=_cursor(page_in.ending_before, "re"),
        )  # fmt: skip
        items = [refund_of(store, r) for r in page.items]
    return stripe_list(url, items, page.has_more)


@router.get("/refunds")
def list_refunds(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    charge = params.get("charge")
    return _list_refunds(request, merchant_id, params, charge if isinstance(charge, str) else None, "/v1/refunds")


@router.get("/charges/{charge_id}/refunds")
def list_charge_refunds(request: Request, charge_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    return _list_refunds(request, merchant_id, params, charge_id, f"/v1/charges/{charge_id}/refunds")
