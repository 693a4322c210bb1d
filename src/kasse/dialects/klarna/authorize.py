"""The Payment Authorize API (seed 004), as one use case run by the engine in one unit of work.

With a network session token or the legacy payment token of a completed payment request: the amount and
currency must be what the customer approved; the first call creates the payment transaction (an engine
payment, authorized, captured at once with ``capture: NOW``) and its answer is kept on the request, so
every later call with the token gets the same answer ("idempotent … the same payment_token … the same
response each time"); an unused token is refused after 60 minutes. With a customer token: a new
transaction without the customer. Without a token: STEP_UP_REQUIRED and a new payment request when the
partner gave a ``step_up_config``, else DECLINED (there is no way to ask the customer)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from kasse.dialects.klarna import requests
from kasse.dialects.klarna.data import TRANSACTION_PREFIX, KlarnaTransactionData
from kasse.dialects.klarna.errors import FORBIDDEN, NOT_FOUND, KlarnaError
from kasse.dialects.klarna.model import DIALECT, PaymentRequest
from kasse.dialects.klarna.rules import RULES
from kasse.dialects.klarna.schemas import AuthorizeIn, TransactionRequest, seconds_of
from kasse.dialects.klarna.translate import request_out, transaction_out, ts
from kasse.domain.models import CaptureMethod, Method, Payment
from kasse.engine import captures, payments
from kasse.engine.unit import Tx

__all__ = ["DEFAULT_EXPIRY_S", "AuthorizeCall", "authorize", "expiry_s", "request_body", "transaction_command"]

DEFAULT_EXPIRY_S = 3 * 3_600  # a payment request's default lifetime (KN "custom payment request expiry")
_TOKEN_KINDS = {
    "klarna-network-session-token": "session_token",
    "klarna-payment-token": "payment_token",
    "klarna-customer-token": "customer_token",
    "x-klarna-customer-token": "customer_token",
}
TOKEN_HEADERS = tuple(_TOKEN_KINDS)


@dataclass(frozen=True, slots=True)
class AuthorizeCall:
    body: AuthorizeIn
    token_header: str | None  # which context token header was sent (lower case), if any
    token: str | None
    base_url: str


def authorize(tx: Tx, call: AuthorizeCall) -> tuple[int, dict[str, Any]]:
    kind = _TOKEN_KINDS[call.token_header] if call.token_header else None
    if kind == "customer_token":
        return 200, _charge_customer(tx, call)
    if kind is not None:
        return 200, _finalize(tx, call, kind)
    return 200, _step_up(tx, call)


def _transaction_request(call: AuthorizeCall) -> TransactionRequest:
    if call.body.request_payment_transaction is None:
        raise KlarnaError.invalid("request_payment_transaction", "required to authorize a payment")
    return call.body.request_payment_transaction


def _finalize(tx: Tx, call: AuthorizeCall, kind: str) -> dict[str, Any]:
    assert call.token is not None
    request = requests.find_by_token(tx, kind, call.token)
    if request is None:
        raise KlarnaError(NOT_FOUND, f"No payment request was completed with this {kind.replace('_', ' ')}")
    if request.authorization is not None:
        answer: dict[str, Any] = json.loads(request.authorization)  # the same answer every time
        return answer
    assert request.token_expires_at is not None
    if tx.now >= request.token_expires_at:
        raise KlarnaError(
            FORBIDDEN,
            f"The token expired at {ts(request.token_expires_at)} (valid 60 minutes); the transaction is lost",
        )
    wanted = _transaction_request(call)
    named = call.body.payment_request_id
    if named is not None and named not in (request.krn, request.id):
        raise KlarnaError.invalid("payment_request_id", "is not the payment request this token was issued for")
    if call.body.currency.upper() != request.currency:
        raise KlarnaError.invalid("currency", f"must be {request.currency}, the currency the customer approved")
    if wanted.amount != request.amount_minor:
        raise KlarnaError.invalid(
            "request_payment_transaction.amount", f"must be {request.amount_minor}, the amount the customer approved"
        )
    payment = _create_transaction(tx, request.currency, wanted, request)
    answer = _approved(tx, payment, request)
    requests.keep_authorization(tx, request, payment.id, json.dumps(answer))
    return answer


def _charge_customer(tx: Tx, call: AuthorizeCall) -> dict[str, Any]:
    assert call.token is not None
    request = requests.find_by_token(tx, "customer_token", call.token)
    if request is None:
        raise KlarnaError(NOT_FOUND, "No customer token like this was issued")
    payment = _create_transaction(tx, call.body.currency.upper(), _transaction_request(call), request)
    return _approved(tx, payment, None)


def request_body(source: Any, config: Any) -> dict[str, Any]:
    """What a payment request keeps of the partner's words (v2 names; ``config`` was v1's)."""
    keep = (
        "payment_option_id",
        "supplementary_purchase_data",
        "request_customer_token",
        "payment_reference",
        "merchant_reference",
    )
    body = {k: getattr(source, k) for k in keep if getattr(source, k, None) is not None}
    body = {k: v.model_dump(mode="json", exclude_none=True) if hasattr(v, "model_dump") else v for k, v in body.items()}
    if config is not None:
        body["customer_interaction_config"] = config.model_dump(mode="json", exclude_none=True)
    return body


def expiry_s(tx: Tx, config: Any) -> int:
    expiry = getattr(config, "interaction_expiry", None)
    return DEFAULT_EXPIRY_S if expiry is None else seconds_of(expiry, tx.now)


def _step_up(tx: Tx, call: AuthorizeCall) -> dict[str, Any]:
    wanted = _transaction_request(call)
    step_up = call.body.step_up_config
    if step_up is None:
        return {"payment_transaction_response": {"result": "DECLINED", "result_reason": "CUSTOMER_ACTION_REQUIRED"}}
    config = step_up.customer_interaction_config
    new = requests.NewRequest(
        currency=call.body.currency.upper(),
        amount_minor=wanted.amount,
        reference=step_up.payment_request_reference,
        body=request_body(call.body, config),
        expires_in_s=expiry_s(tx, config),
    )
    # Klarna's rules hold for the later authorize.
    payments.validate(transaction_command(new.currency, wanted, None), RULES)
    request = requests.create(tx, new)
    return {
        "payment_transaction_response": {"result": "STEP_UP_REQUIRED", "result_reason": "STEP_UP_REQUIRED"},
        "payment_request": request_out(request, call.base_url),
    }


def transaction_command(
    currency: str, wanted: TransactionRequest, data: KlarnaTransactionData | None, email: str | None = None
) -> payments.CreatePayment:
    return payments.CreatePayment(
        amount_minor=wanted.amount,
        currency=currency,
        method=Method.KLARNA_PAY_LATER,
        origin=DIALECT,
        reference=wanted.payment_transaction_reference,
        customer={"email": email} if email else {},
        provider_data=data.as_dict() if data else {},
        capture_method=CaptureMethod.MANUAL,
    )


def _create_transaction(tx: Tx, currency: str, wanted: TransactionRequest, request: PaymentRequest) -> Payment:
    data = KlarnaTransactionData(
        TRANSACTION_PREFIX + str(uuid.uuid4()), wanted.payment_transaction_reference, request.id
    )
    email = request.customer.get("email")
    payment = payments.create_payment(
        tx, transaction_command(currency, wanted, data, email if isinstance(email, str) else None)
    )
    tx.link(
        dialect=DIALECT,
        kind="transaction",
        external_id=data.transaction_id,
        object_type="payment",
        object_id=payment.id,
    )
    payment = payments.authorize(tx, payment.id)
    if wanted.capture == "NOW":
        captures.capture(tx, payment.id, payment=payment)
    return payment


def _approved(tx: Tx, payment: Payment, request: PaymentRequest | None) -> dict[str, Any]:
    found = transaction_out(payment, tx.store.captures_of(merchant_id=tx.merchant_id, payment_id=payment.id), [])
    names = (
        "payment_transaction_id",
        "payment_transaction_reference",
        "amount",
        "currency",
        "expires_at",
        "payment_funding",
        "payment_pricing",
    )
    transaction = {k: found[k] for k in names}
    if found["payment_captures"]:
        transaction["payment_captures"] = found["payment_captures"]
    answer: dict[str, Any] = {
        "payment_transaction_response": {"result": "APPROVED", "payment_transaction": transaction}
    }
    if request is not None and request.customer_token:
        token_request = request.body.get("request_customer_token") or {}
        answer["customer_token_response"] = {
            "result": "APPROVED",
            "customer_token": {
                "customer_token_id": request.customer_token,
                "customer_token_reference": token_request.get("customer_token_reference"),
            },
        }
        answer["klarna_customer"] = {"customer_token": request.customer_token}
    return answer
