"""Payment requests, the dialect's own objects: created by the partner (or by a STEP_UP_REQUIRED
authorize), opened and decided by the customer on the approval page, canceled by the partner, expired on
the merchant's clock. Each function is a use case run by the engine in one unit of work
(``kasse.run(merchant_id, create, …)``); every state change goes through ``states.apply_request`` and
publishes its ``payment.request.state-change.*`` event in the same unit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from kasse.dialects.klarna import provider_events
from kasse.dialects.klarna.errors import FORBIDDEN, NOT_FOUND, KlarnaError
from kasse.dialects.klarna.model import (
    CUSTOMER_TOKEN_PREFIX,
    DIALECT,
    PAYMENT_TOKEN_PREFIX,
    SESSION_TOKEN_PREFIX,
    PaymentRequest,
    account_of,
    request_uuid,
)
from kasse.dialects.klarna.states import RequestState, RequestTrigger, apply_request
from kasse.domain.ids import new_token
from kasse.domain.klarna_persons import Verdict, verdict_for
from kasse.engine.unit import Tx

__all__ = [
    "EXPIRY_TIMER",
    "TOKEN_TTL_S",
    "NewRequest",
    "PaymentRequest",
    "approve",
    "cancel",
    "create",
    "decline",
    "expire",
    "get",
    "open_journey",
    "update",
]

EXPIRY_TIMER = "klarna_payment_request_expiry"
TOKEN_TTL_S = 3_600  # "The payment_token is valid for 60 minutes" (seed 004)


@dataclass(frozen=True, slots=True)
class NewRequest:
    currency: str
    amount_minor: int | None
    reference: str | None
    body: dict[str, Any]
    expires_in_s: int


def get(tx: Tx, request_id: str, *, for_update: bool = True) -> PaymentRequest:
    row = tx.store.get_klarna_request(
        merchant_id=tx.merchant_id, request_id=request_uuid(request_id), for_update=for_update
    )
    if row is None:
        raise KlarnaError(NOT_FOUND, f"Payment request not found: {request_id}")
    return PaymentRequest.from_row(row)


def _save(tx: Tx, request: PaymentRequest) -> None:
    request.updated_at = tx.now
    tx.store.update_klarna_request(merchant_id=tx.merchant_id, request_id=request.id, values=request.as_row())


def _move(tx: Tx, request: PaymentRequest, trigger: RequestTrigger, reason: str | None = None) -> PaymentRequest:
    """The one door: the table decides, the row and its event are written in the caller's unit."""
    before = request.state
    after = apply_request(before, trigger)
    if after is before:
        return request
    request.previous_state, request.state, request.state_reason = before, after, reason
    _save(tx, request)
    provider_events.publish_request(tx, request)
    return request


def create(tx: Tx, new: NewRequest) -> PaymentRequest:
    request = PaymentRequest(
        id=str(uuid.uuid4()),
        merchant_id=tx.merchant_id,
        state=RequestState.SUBMITTED,
        currency=new.currency,
        amount_minor=new.amount_minor,
        reference=new.reference,
        account_id=account_of(tx),
        body=new.body,
        customer={},
        page_token=new_token(),
        created_at=tx.now,
        updated_at=tx.now,
        expires_at=tx.now + timedelta(seconds=new.expires_in_s),
    )
    tx.store.insert_klarna_request(request.as_row())
    tx.schedule(EXPIRY_TIMER, request.id, after_s=new.expires_in_s)
    provider_events.publish_request(tx, request)
    return request


def update(tx: Tx, request_id: str, changes: dict[str, Any]) -> PaymentRequest:
    """PUT: only while SUBMITTED; omitted fields keep their values (Klarna "Update a payment request")."""
    request = get(tx, request_id)
    if request.state is not RequestState.SUBMITTED:
        raise KlarnaError(FORBIDDEN, f"The payment request is {request.state.value}; only SUBMITTED can be updated")
    body = {**request.body, **{k: v for k, v in changes.items() if k not in ("amount", "currency")}}
    request = replace(
        request,
        body=body,
        reference=changes.get("payment_request_reference") or changes.get("payment_reference") or request.reference,
        amount_minor=changes.get("amount", request.amount_minor),
        currency=changes.get("currency", request.currency),
    )
    _save(tx, request)
    return request


def cancel(tx: Tx, request_id: str) -> PaymentRequest:
    return _move(tx, get(tx, request_id), RequestTrigger.CANCEL, "PARTNER_CANCELED")


def open_journey(tx: Tx, request_id: str) -> PaymentRequest:
    request = get(tx, request_id)
    _require_open(tx, request)
    return _move(tx, request, RequestTrigger.OPEN)


def abort(tx: Tx, request_id: str) -> PaymentRequest:
    return _move(tx, get(tx, request_id), RequestTrigger.ABORT, "PURCHASE_FLOW_ABORTED")


def approve(tx: Tx, request_id: str, *, email: str | None = None) -> PaymentRequest:
    """The customer approved. Klarna's denied sample customers are declined instead; an approval issues
    the network session token and the legacy payment token (60 minutes), and a customer token when the
    partner asked for one."""
    request = open_journey(tx, request_id)
    email = email or _customer_email(request.body)
    request.customer = {"email": email} if email else {}
    if verdict_for(email=email) is Verdict.DENIED:
        return _move(tx, request, RequestTrigger.DECLINE, "PERMANENT")
    request.session_token = SESSION_TOKEN_PREFIX + str(uuid.uuid4())
    request.payment_token = PAYMENT_TOKEN_PREFIX + str(uuid.uuid4())
    request.token_expires_at = tx.now + timedelta(seconds=TOKEN_TTL_S)
    _link(tx, request, "session_token", request.session_token)
    _link(tx, request, "payment_token", request.payment_token)
    if request.body.get("request_customer_token"):
        request.customer_token = CUSTOMER_TOKEN_PREFIX + str(uuid.uuid4())
        _link(tx, request, "customer_token", request.customer_token)
    return _move(tx, request, RequestTrigger.APPROVE)


def decline(tx: Tx, request_id: str) -> PaymentRequest:
    request = open_journey(tx, request_id)
    return _move(tx, request, RequestTrigger.DECLINE, "PERMANENT")


def expire(tx: Tx, subject_id: str) -> PaymentRequest | None:
    """Timer: ``expires_at`` passed. Does nothing once the request is final or its deadline moved."""
    row = tx.store.get_klarna_request(merchant_id=tx.merchant_id, request_id=subject_id, for_update=True)
    if row is None:
        return None
    request = PaymentRequest.from_row(row)
    if request.state.final or tx.now < request.expires_at:
        return None
    return _move(tx, request, RequestTrigger.EXPIRE)


def _require_open(tx: Tx, request: PaymentRequest) -> None:
    """The deadline counts from the instant it passes, not from when its timer gets to fire."""
    if not request.state.final and tx.now >= request.expires_at:
        raise KlarnaError(FORBIDDEN, f"The payment request expired at {request.expires_at.isoformat()}")


def _customer_email(body: dict[str, Any]) -> str | None:
    purchase = body.get("supplementary_purchase_data") or {}
    customer = purchase.get("customer") if isinstance(purchase, dict) else None
    email = customer.get("email") if isinstance(customer, dict) else None
    return email if isinstance(email, str) else None


def _link(tx: Tx, request: PaymentRequest, kind: str, token: str) -> None:
    tx.link(dialect=DIALECT, kind=kind, external_id=token, object_type="klarna_request", object_id=request.id)


def find_by_token(tx: Tx, kind: str, token: str) -> PaymentRequest | None:
    found = tx.store.find_external_id(merchant_id=tx.merchant_id, dialect=DIALECT, kind=kind, external_id=token)
    if found is None:
        return None
    row = tx.store.get_klarna_request(merchant_id=tx.merchant_id, request_id=found.object_id, for_update=True)
    return None if row is None else PaymentRequest.from_row(row)


def keep_authorization(tx: Tx, request: PaymentRequest, payment_id: str | None, answer: str) -> None:
    """The authorize answer for this request's token, replayed for every later call with it."""
    request.payment_id, request.authorization = payment_id, answer
    _save(tx, request)
