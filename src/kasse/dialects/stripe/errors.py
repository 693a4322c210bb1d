"""Stripe's error shape ``{"error": {type, code, message, param}}`` with Stripe's HTTP statuses, so
stripe-python raises the class a shop's code catches (``_api_requestor.specific_v1_api_error``): 400 and
404 → ``InvalidRequestError`` (``IdempotencyError`` for type ``idempotency_error``), 401 →
``AuthenticationError``, 409 → retried, 5xx → ``APIError``."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import NamedTuple

from kasse.domain.errors import DomainError, ErrorCode, InvalidRequest
from kasse.edge.json import JSONResponse

__all__ = [
    "STRIPE_ERRORS",
    "StripeCode",
    "StripeError",
    "StripeRefusal",
    "stripe_error",
    "stripe_error_response",
    "unexpected_error",
]

log = logging.getLogger(__name__)


class StripeCode(StrEnum):
    """Stripe's own codes that the engine has no word for. Every code the dialect sends is one of Stripe's
    error-code list as stripe-python declares it (``PaymentIntent.LastPaymentError.code``; a test checks);
    where Stripe has no code for a refusal (an invalid value, an unsupported country), none is sent."""

    AMOUNT_TOO_LARGE = "amount_too_large"
    AMOUNT_TOO_SMALL = "amount_too_small"
    CHARGE_ALREADY_CAPTURED = "charge_already_captured"
    CHARGE_ALREADY_REFUNDED = "charge_already_refunded"
    CHARGE_NOT_REFUNDABLE = "charge_not_refundable"
    INVALID_CHARGE_AMOUNT = "invalid_charge_amount"
    INVALID_SOURCE_USAGE = "invalid_source_usage"
    LOCK_TIMEOUT = "lock_timeout"
    PARAMETER_INVALID_INTEGER = "parameter_invalid_integer"
    PARAMETER_UNKNOWN = "parameter_unknown"
    PARAMETERS_EXCLUSIVE = "parameters_exclusive"
    PAYMENT_METHOD_NOT_AVAILABLE = "payment_method_not_available"
    RESOURCE_MISSING = "resource_missing"  # as a 400: a list cursor that names no object


class StripeRefusal(InvalidRequest):
    """A request the Stripe dialect refuses in Stripe's words, before the engine sees it: always a 400
    ``invalid_request_error`` (``stripe_code`` None: Stripe sends no code); elsewhere it reads as the
    engine's ``parameter_invalid``."""

    def __init__(self, stripe_code: StripeCode | None, message: str, *, param: str | None = None) -> None:
        super().__init__(ErrorCode.PARAMETER_INVALID, message, param=param)
        self.stripe_code = stripe_code


class StripeError(NamedTuple):
    status: int
    type: str
    code: str | None  # None: Stripe sends no code (authentication, idempotency)


def _invalid(code: str | None) -> StripeError:
    return StripeError(400, "invalid_request_error", code)


E = ErrorCode
# Every engine code in Stripe's words (its error-code list); where Stripe has no code, none is sent.
STRIPE_ERRORS: dict[ErrorCode, StripeError] = {
    E.PARAMETER_INVALID: _invalid(None),
    E.PARAMETER_MISSING: _invalid("parameter_missing"),
    E.PARAMETER_UNKNOWN: _invalid("parameter_unknown"),
    E.UNSUPPORTED_MEDIA_TYPE: _invalid(None),
    E.IDEMPOTENCY_KEY_INVALID: _invalid(None),
    E.INVALID_API_KEY: StripeError(401, "invalid_request_error", None),
    E.URL_INVALID: _invalid("url_invalid"),
    E.URL_REFUSED: _invalid("url_invalid"),  # a webhook target the policy refuses (docs/security.md)
    E.INVALID_AMOUNT: _invalid(None),
    E.INVALID_CURRENCY: _invalid(None),
    E.INVALID_EXPIRES_IN: _invalid(None),
    E.AMOUNT_OUT_OF_RANGE: _invalid(None),
    E.AMOUNT_TOO_LARGE: _invalid(StripeCode.AMOUNT_TOO_LARGE),
    E.CURRENCY_NOT_SUPPORTED: _invalid(None),
    E.COUNTRY_NOT_SUPPORTED: _invalid(None),
    E.CURRENCY_COUNTRY_MISMATCH: _invalid(None),
    E.CAPTURE_METHOD_NOT_SUPPORTED: _invalid(None),
    E.RESOURCE_MISSING: StripeError(404, "invalid_request_error", "resource_missing"),
    E.INVALID_STATE: _invalid(StripeCode.INVALID_SOURCE_USAGE),
    E.PAYMENT_NOT_OPEN: _invalid(None),
    E.PAYMENT_EXPIRED: _invalid(StripeCode.INVALID_SOURCE_USAGE),
    E.NOTHING_TO_CAPTURE: _invalid(StripeCode.INVALID_SOURCE_USAGE),
    E.PAYMENT_NOT_REFUNDABLE: _invalid(StripeCode.CHARGE_NOT_REFUNDABLE),
    E.ALREADY_REFUNDED: _invalid(StripeCode.CHARGE_ALREADY_REFUNDED),
    E.REFUND_WINDOW_EXPIRED: _invalid(StripeCode.CHARGE_NOT_REFUNDABLE),
    E.IDEMPOTENCY_KEY_REUSED: StripeError(400, "idempotency_error", None),
    E.CONCURRENT_UPDATE: StripeError(409, "api_error", StripeCode.LOCK_TIMEOUT),  # stripe-python retries 409s
    E.DATABASE_CONFLICT: _invalid(None),
    E.CLOCK_ADVANCE_RUNNING: _invalid(None),
    E.EXTERNAL_ID_TAKEN: _invalid("resource_already_exists"),
}


def stripe_error(status: int, type_: str, code: str | None, message: str, param: str | None = None) -> JSONResponse:
    """Stripe omits ``code`` and ``param`` where it has none (it never sends them null)."""
    error: dict[str, str] = {"type": type_, "message": message}
    if code is not None:
        error["code"] = code
    if param is not None:
        error["param"] = param
    return JSONResponse({"error": error}, status_code=status)


def stripe_error_response(exc: DomainError) -> JSONResponse:
    if isinstance(exc, StripeRefusal):
        return stripe_error(400, "invalid_request_error", exc.stripe_code, exc.message, exc.param)
    status, type_, code = STRIPE_ERRORS[exc.code]
    return stripe_error(status, type_, code, exc.message, exc.param)


def unexpected_error(exc: Exception) -> JSONResponse:
    log.exception("unexpected error in the Stripe dialect", exc_info=exc)
    return stripe_error(500, "api_error", None, "An unexpected error occurred; it has been logged")
