"""HTTP of the MultiSafepay Orders API at ``/multisafepay/v1/``: decode, call the engine, encode.

Every answer is MultiSafepay's envelope: ``{"success": true, "data": …}`` or its error shape (errors.py).
Unknown query parameters (the SDK adds ``locale`` and, on a get, ``order_id``) are ignored.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.multisafepay import errors as e
from kasse.dialects.multisafepay import ids, refund_rules
from kasse.dialects.multisafepay.data import MspOrderData
from kasse.dialects.multisafepay.rules import RULES
from kasse.dialects.multisafepay.schemas import OrderIn, RefundIn, UpdateIn, parse
from kasse.dialects.multisafepay.translate import GATEWAY, bank_page_url, order_out, payment_page_url, transaction_id
from kasse.domain.clock import utc
from kasse.domain.errors import DomainError
from kasse.domain.models import Method, Payment, Refund
from kasse.domain.rules import DAY_S
from kasse.edge.auth import Authenticator, Presented, bearer, header, query
from kasse.edge.errors import dialect_route
from kasse.edge.json import JSONResponse
from kasse.edge.request import base_url, json_body, kasse_of, targets_of
from kasse.engine import payments, refunds, webhooks
from kasse.engine.merchants import hash_secret
from kasse.engine.targets import CheckedUrl, TargetGuard
from kasse.engine.unit import Kasse, Tx
from kasse.storage.store import ExternalIdTaken

__all__ = ["router"]

log = logging.getLogger(__name__)
ORIGIN = "multisafepay"
PAGE_DAYS = 30  # a payment page's lifetime without days_active / seconds_active (DaysActive.yaml)


def _render(exc: Exception) -> Response:
    if isinstance(exc, e.MspError):
        return e.msp_error_response(exc)
    if isinstance(exc, DomainError):
        return e.msp_error_response(e.from_domain(exc))
    log.exception("unexpected error in the MultiSafepay dialect", exc_info=exc)
    return JSONResponse(e.error_body(e.UNKNOWN, "Unknown error"), status_code=500)


# Answers every error of these routes in MultiSafepay's shape, whatever raised it.
MspRoute = dialect_route(_render, name="MspRoute")
router = APIRouter(prefix="/multisafepay/v1", route_class=MspRoute, include_in_schema=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Account:
    merchant_id: str
    api_key: str


def _lookup(kasse: Kasse, presented: Presented) -> Account | None:
    with kasse.read() as store:
        found = store.find_credential("multisafepay", hash_secret(presented.secret.strip()))
    if found is None or not found.get("secret"):
        return None
    return Account(str(found["merchant_id"]), str(found["secret"]))


def _no_key(*_: object) -> Exception:
    return e.MspError(e.INVALID_API_KEY, "Invalid API key", 401)


# ``Authorization: Bearer``, the ``api_key`` header or ``?api_key=`` (MultiSafepay's security schemes).
account = Authenticator[Account](
    "multisafepay_api_key", (bearer, header("api_key"), query("api_key")), _lookup, _no_key, _no_key
)
Merchant = Annotated[Account, Depends(account)]


Body = Annotated[
    Any, Depends(json_body(lambda: e.MspError(e.MISSING_DATA, "Missing data: the body is not valid JSON")))
]


def _ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"success": True, "data": data}, status_code=status)


# --- create ------------------------------------------------------------------------------------


def _lifetime_s(order: OrderIn) -> int:
    """A direct order is at the bank at once: Sofort's day. A redirect order's payment page lives
    ``seconds_active``, else ``days_active`` days, else 30 days (``DaysActive.yaml``); once the customer
    goes on to Sofort, the day starts (pages.py)."""
    if order.type == "direct":
        return RULES.action_window_s
    return order.seconds_active or (order.days_active or PAGE_DAYS) * DAY_S


def _command(order: OrderIn, raw: dict[str, Any]) -> payments.CreatePayment:
    """The engine's command; what only MultiSafepay knows is checked here, the rules by the engine."""
    if order.type not in ("redirect", "direct"):
        raise e.MspError(e.UNKNOWN, e.titled(e.UNKNOWN, f"the order type '{order.type}' is not supported"))
    gateway = (order.gateway or "").upper()
    # Without a gateway a redirect order opens the payment page, where the customer chooses the method.
    if gateway != GATEWAY and (gateway or order.type == "direct"):
        raise e.MspError(e.GATEWAY_UNAVAILABLE, e.titled(e.GATEWAY_UNAVAILABLE))
    options = order.payment_options
    customer = order.customer.model_dump(exclude_none=True) if order.customer else {}
    country = customer.get("country")
    if isinstance(country, str):
        customer["country"] = country = country.upper()
    provider_data = MspOrderData(
        type=order.type, gateway=gateway,
        notification_method=((options.notification_method if options else None) or "POST").upper(),
        var1=order.var1, var2=order.var2, var3=order.var3,
        gateway_info=order.gateway_info.model_dump(exclude_none=True) if order.gateway_info is not None else None,
        custom_info=order.custom_info, shopping_cart=_raw(raw, "shopping_cart"),
        checkout_options=_raw(raw, "checkout_options"), order_adjustment=_raw(raw, "order_adjustment"),
    ).as_dict()  # fmt: skip
    return payments.CreatePayment(
        amount_minor=order.amount, currency=order.currency.upper(), method=Method.SOFORT, origin=ORIGIN,
        country=country if isinstance(country, str) else None, description=order.description,
        reference=order.order_id, return_url=options.redirect_url if options else None,
        cancel_url=options.cancel_url if options else None, customer=customer, provider_data=provider_data,
        expires_in_s=_lifetime_s(order),
    )  # fmt: skip


def _raw(payload: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A part kept as the shop sent it (validated by its wire model before)."""
    value = payload.get(key)
    return dict(value) if isinstance(value, dict) else None


def _with_endpoint(provider_data: dict[str, Any], endpoint_id: str) -> dict[str, Any]:
    return MspOrderData.from_dict(provider_data).with_endpoint(endpoint_id).as_dict()


def _create_order(
    tx: Tx, cmd: payments.CreatePayment, order_id: str, notification_url: CheckedUrl | None, api_key: str
) -> Payment:
    if notification_url:
        endpoint = webhooks.notification_endpoint(tx, dialect=ORIGIN, url=notification_url, secret=api_key)
        cmd = dataclasses.replace(cmd, provider_data=_with_endpoint(cmd.provider_data, endpoint.id))
    payment = payments.create_payment(tx, cmd)
    ids.record_order(tx, payment, order_id)
    return payment


def _create(
    kasse: Kasse, who: Account, order: OrderIn, raw: dict[str, Any], base_url: str, targets: TargetGuard
) -> dict[str, Any]:
    cmd = _command(order, raw)
    payments.validate(cmd, RULES)  # before anything is written (rule 8)
    raw_url = order.payment_options.notification_url if order.payment_options else None
    # The webhook target policy, before the transaction (resolving a name must not hold it open).
    notification_url = targets.vet(raw_url, param="payment_options.notification_url") if raw_url else None
    try:
        # A duplicate order_id is refused by external_ids' unique constraint, and the unit rolls back. The
        # merchant row is locked only where a notification endpoint may be created (one per URL).
        run = kasse.run_locked if notification_url else kasse.run
        payment = run(who.merchant_id, _create_order, cmd, order.order_id, notification_url, who.api_key)
    except ExternalIdTaken:
        raise e.MspError(
            e.INVALID_ORDER_ID, e.titled(e.INVALID_ORDER_ID, "this order_id is already used"), 409
        ) from None
    if order.type == "direct":
        data = order_out(payment, [], base_url)
        data["payment_url"] = bank_page_url(payment, base_url)
        return data
    return {"order_id": payment.reference, "payment_url": payment_page_url(payment, base_url),
            "session_id": payment.redirect_token}  # fmt: skip


@router.post("/json/orders")
def create_order(request: Request, who: Merchant, payload: Body) -> Response:
    order = parse(OrderIn, payload)
    return _ok(_create(kasse_of(request), who, order, payload, base_url(request), targets_of(request)))


# --- get ---------------------------------------------------------------------------------------


def _find(tx_or_store: Any, merchant_id: str, order_id: str) -> Payment:
    payment: Payment | None = tx_or_store.find_payment_by_reference(
        merchant_id=merchant_id, origin=ORIGIN, reference=order_id
    )
    if payment is None:
        raise e.MspError(e.INVALID_ORDER_ID, e.titled(e.INVALID_ORDER_ID), 404)
    return payment


def _get(kasse: Kasse, who: Account, order_id: str, base_url: str) -> dict[str, Any]:
    with kasse.read() as store:
        payment = _find(store, who.merchant_id, order_id)
        found = store.refunds_of(merchant_id=who.merchant_id, payment_id=payment.id)
        captures = store.captures_of(merchant_id=who.merchant_id, payment_id=payment.id)
    return order_out(payment, found, base_url, captures=captures)


@router.get("/json/orders/{order_id:path}")
def get_order(request: Request, order_id: str, who: Merchant) -> Response:
    return _ok(_get(kasse_of(request), who, order_id, base_url(request)))


# --- refunds -----------------------------------------------------------------------------------


def _ask(payment: Payment, body: RefundIn, raw: dict[str, Any]) -> refund_rules.RefundAsk:
    if body.checkout_data is not None:
        return refund_rules.by_item(payment, raw["checkout_data"])
    amount = body.amount or None  # none or 0: the whole rest (Refund.yaml)
    if amount is not None and amount < 0:
        raise e.MspError(e.INVALID_AMOUNT, e.titled(e.INVALID_AMOUNT, "a refund amount is positive"))
    return refund_rules.RefundAsk(amount)


def _refund(kasse: Kasse, who: Account, order_id: str, body: RefundIn, raw: dict[str, Any]) -> dict[str, Any]:
    def create(tx: Tx) -> Refund:
        payment = _find(tx.store, who.merchant_id, order_id)
        if body.currency is not None and body.currency.upper() != payment.currency:
            raise e.MspError(e.INVALID_CURRENCY, e.titled(e.INVALID_CURRENCY, f"the order is in {payment.currency}"))
        ask = _ask(payment, body, raw)
        earlier = tx.store.refunds_of(merchant_id=who.merchant_id, payment_id=payment.id)
        amount = payment.amount_refundable_minor if ask.amount_minor is None else ask.amount_minor
        refund_rules.refuse_duplicate(earlier, amount, tx.now)
        if ask.cart_after is not None:  # before the refund, so that its notification shows the new cart
            payments.update_details(tx, payment.id, provider_data={"shopping_cart": ask.cart_after})
        refund = refunds.create_refund(tx, payment.id, amount_minor=ask.amount_minor, reason=body.description)
        ids.record_refund(tx, refund)
        return refund

    refund = kasse.run(who.merchant_id, create)
    tid = transaction_id(refund.id)
    return {"order_id": order_id, "transaction_id": tid, "refund_id": tid}


@router.post("/json/orders/{order_id:path}/refunds")
def refund_order(request: Request, order_id: str, who: Merchant, payload: Body) -> Response:
    return _ok(_refund(kasse_of(request), who, order_id, parse(RefundIn, payload), payload))


# --- update / cancel ---------------------------------------------------------------------------

_CANCEL = frozenset({"cancelled", "canceled", "void"})


def _update(kasse: Kasse, who: Account, order_id: str, body: UpdateIn) -> None:
    status = (body.status or "").lower()
    if status and status not in _CANCEL and status != "shipped":
        raise e.MspError(e.MISSING_DATA, e.titled(e.MISSING_DATA, f"the status '{body.status}' is not supported"))

    def change(tx: Tx) -> None:
        payment = _find(tx.store, who.merchant_id, order_id)
        if status in _CANCEL:
            if body.reason:  # before the cancel, so that its notification carries it
                payments.update_details(tx, payment.id, provider_data={"reason": body.reason})
            payments.cancel(tx, payment.id, reason="requested_by_merchant")
        elif body.extend_expiration:
            # One more day on its deadline (never shorter: a payment page may have weeks left).
            left_s = max(0, math.ceil((utc(payment.expires_at) - tx.now).total_seconds()))
            payments.extend_expiry(tx, payment.id, by_s=left_s + DAY_S)

    kasse.run(who.merchant_id, change)


@router.patch("/json/orders/{order_id:path}")
def update_order(request: Request, order_id: str, who: Merchant, payload: Body) -> Response:
    _update(kasse_of(request), who, order_id, parse(UpdateIn, payload))
    return _ok({})


@router.api_route("/{rest:path}", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
def not_found(rest: str) -> Response:
    """Anything else under the base URL is answered in MultiSafepay's shape too (not implemented here)."""
    raise e.MspError(e.UNKNOWN, f"Not found: {rest}", 404)
