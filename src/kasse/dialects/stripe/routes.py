"""HTTP handlers of the Stripe dialect: Sources and Charges. Decode, call the engine, encode."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from kasse.dialects.stripe import schemas
from kasse.dialects.stripe import translate as out
from kasse.dialects.stripe.data import StripeChargeData, StripeSourceData
from kasse.dialects.stripe.errors import StripeCode, StripeRefusal
from kasse.dialects.stripe.expand import Expander, Paths, expand_in
from kasse.dialects.stripe.fields import check_known, string
from kasse.dialects.stripe.listing import cursors, exists, list_in
from kasse.dialects.stripe.loaders import ORIGIN, charge_of, find_charge, find_source
from kasse.dialects.stripe.wire import MerchantId, Params, StripeRoute, list_body, post, stripe_list
from kasse.domain.errors import ErrorCode, InvalidRequest
from kasse.domain.ids import new_token
from kasse.domain.models import Capture, CaptureMethod, Method
from kasse.edge.json import JSONResponse
from kasse.edge.request import base_url, kasse_of
from kasse.engine import captures, payments
from kasse.engine.unit import Tx
from kasse.storage.store import Store

__all__ = ["router"]

router = APIRouter(prefix="/stripe/v1", route_class=StripeRoute, include_in_schema=False)
_UPDATE_PARAMS = {"metadata", "description", "expand"}
_CAPTURE_PARAMS = {
    "amount", "application_fee", "application_fee_amount", "expand", "receipt_email", "statement_descriptor",
    "statement_descriptor_suffix", "transfer_data", "transfer_group",
}  # fmt: skip


# --- sources ----------------------------------------------------------------------------------------


@router.post("/sources")
def create_source(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    src = schemas.source_in(params)
    paths = expand_in(params, "source")
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

    def operation(tx: Tx) -> dict[str, Any]:
        source = out.source_out(payments.create_payment(tx, cmd), base_url(request))
        return _expand(tx.store, request, merchant_id, source, paths)

    return post(request, merchant_id, params, operation)


@router.get("/sources/{source_id}")
def get_source(request: Request, source_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    check_known(params, {"expand", "client_secret"})
    paths = expand_in(params, "source")
    with kasse_of(request).read() as store:
        payment = find_source(store, merchant_id, source_id)
        return JSONResponse(_expand(store, request, merchant_id, out.source_out(payment, base_url(request)), paths))


@router.post("/sources/{source_id}")
def update_source(request: Request, source_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    """Metadata and owner may change (Stripe: "updates the specified source by setting the values of the
    parameters passed")."""
    check_known(params, {"metadata", "owner", "expand"})
    metadata, owner = schemas.metadata_in(params), schemas.owner_in(params)
    paths = expand_in(params, "source")

    def operation(tx: Tx) -> dict[str, Any]:
        payment = find_source(tx.store, merchant_id, source_id)
        updated = payments.update_details(tx, payment.id, metadata=metadata, customer=owner)
        return _expand(tx.store, request, merchant_id, out.source_out(updated, base_url(request)), paths)

    return post(request, merchant_id, params, operation)


# --- charges ----------------------------------------------------------------------------------------


def _charge(tx: Tx, merchant_id: str, body: schemas.ChargeIn) -> Capture:
    payment = find_source(tx.store, merchant_id, body.source, param="source", for_update=True)
    status = out.source_status(payment)
    if status == "consumed":
        raise StripeRefusal(
            StripeCode.INVALID_SOURCE_USAGE,
            f"The source {body.source} has already been used in a charge; Sofort sources are single_use.",
            param="source",
        )
    if status != "chargeable":
        raise StripeRefusal(None, f"The source {body.source} is {status}, not chargeable.", param="source")
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
    charge = StripeChargeData(
        body.description, dict(body.metadata), body.statement_descriptor, body.statement_descriptor_suffix,
        body.receipt_email,
    )  # fmt: skip
    payments.update_details(tx, payment.id, provider_data=StripeSourceData.of(payment).with_charge(charge).as_dict())
    return captures.capture(tx, payment.id)


@router.post("/charges")
def create_charge(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    body = schemas.charge_in(params)
    paths = expand_in(params, "charge")

    def operation(tx: Tx) -> dict[str, Any]:
        charge = charge_of(tx.store, _charge(tx, merchant_id, body), base_url(request))
        return _expand(tx.store, request, merchant_id, charge, paths)

    return post(request, merchant_id, params, operation)


def _expand(store: Store, request: Request, merchant_id: str, obj: dict[str, Any], paths: Paths) -> dict[str, Any]:
    return Expander(store, merchant_id, base_url(request)).apply(obj, paths)


@router.get("/charges/search")
def search_charges(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    """Stripe's Search API is not offered (docs/stripe.md): refused in Stripe's shape, never read as an id."""
    raise InvalidRequest(
        ErrorCode.PARAMETER_INVALID,
        "Kasse's Stripe dialect does not offer the Search API; list charges with GET /v1/charges and its filters",
    )


@router.get("/charges/{charge_id}")
def get_charge(request: Request, charge_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    check_known(params, {"expand"})
    paths = expand_in(params, "charge")
    with kasse_of(request).read() as store:
        charge = charge_of(store, find_charge(store, merchant_id, charge_id), base_url(request))
        return JSONResponse(_expand(store, request, merchant_id, charge, paths))


@router.post("/charges/{charge_id}/capture")
def capture_charge(request: Request, charge_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    """A Sofort charge is captured when it is created; Stripe refuses a second capture."""
    check_known(params, _CAPTURE_PARAMS)
    with kasse_of(request).read() as store:
        find_charge(store, merchant_id, charge_id)
    raise StripeRefusal(StripeCode.CHARGE_ALREADY_CAPTURED, f"Charge {charge_id} has already been captured.")


@router.post("/charges/{charge_id}")
def update_charge(request: Request, charge_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    check_known(params, _UPDATE_PARAMS)
    metadata = schemas.metadata_in(params)
    description = string(params, "description")
    paths = expand_in(params, "charge")

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
        charge_out = charge_of(tx.store, capture, base_url(request), payment=payment)
        return _expand(tx.store, request, merchant_id, charge_out, paths)

    return post(request, merchant_id, params, operation)


@router.get("/charges")
def list_charges(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    page_in = list_in(params, ("customer", "payment_intent", "transfer_group"), created=True)
    paths = expand_in(params, "list:charge")
    with kasse_of(request).read() as store:
        after, before = cursors(page_in, "charge", lambda i: exists(lambda: find_charge(store, merchant_id, i).id))
        if page_in.filters:  # Kasse's charges have no customer, PaymentIntent or transfer group
            return stripe_list("/v1/charges", [], False)
        page = store.list_captures_of_origin(
            merchant_id=merchant_id, origin=ORIGIN, limit=page_in.limit, starting_after=after, ending_before=before,
            created=page_in.created,
        )  # fmt: skip
        items = [charge_of(store, c, base_url(request)) for c in page.items]
        listed = _expand(store, request, merchant_id, list_body("/v1/charges", items, page.has_more), paths)
    return JSONResponse(listed)
