"""Stripe's error shape ``{"error": {type, code, message, param}}`` with Stripe's HTTP statuses, so
stripe-python raises the class a shop's code catches (``_api_requestor.specific_v1_api_error``): 400 and
404 → ``InvalidRequestError`` (``IdempotencyError`` for type ``idempotency_error``), 401 →
``AuthenticationError``, 5xx → ``APIError``."""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse

from kasse.domain.errors import (
    Conflict,
    DomainError,
    IdempotencyMismatch,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    Unauthenticated,
)

__all__ = ["STATUS_FOR", "STRIPE_CODE", "stripe_error", "stripe_error_response", "unexpected_error"]

log = logging.getLogger(__name__)

STATUS_FOR: dict[type[DomainError], int] = {
    InvalidRequest: 400,
    Unauthenticated: 401,
    NotFound: 404,
    InvalidTransition: 400,
    Conflict: 400,
    IdempotencyMismatch: 400,
}

# Engine codes in Stripe's vocabulary (Stripe's published error codes); unlisted codes pass through.
STRIPE_CODE: dict[str, str | None] = {
    "already_refunded": "charge_already_refunded",
    "payment_not_refundable": "charge_not_refundable",
    "refund_window_expired": "charge_not_refundable",
    "amount_too_large": "amount_too_large",
    "invalid_state": "invalid_source_usage",
    "nothing_to_capture": "invalid_source_usage",
    "payment_expired": "invalid_source_usage",
    "concurrent_update": "lock_timeout",
    "url_refused": "url_invalid",  # a webhook target the policy refuses (docs/security.md)
    "idempotency_key_reused": None,
    "invalid_api_key": None,
}


def stripe_error(status: int, type_: str, code: str | None, message: str, param: str | None = None) -> JSONResponse:
    body = {"error": {"type": type_, "code": code, "message": message, "param": param}}
    if code is None:
        del body["error"]["code"]
    return JSONResponse(body, status_code=status)


def stripe_error_response(exc: DomainError) -> JSONResponse:
    status = next((STATUS_FOR[cls] for cls in type(exc).__mro__ if cls in STATUS_FOR), 400)
    type_ = "idempotency_error" if isinstance(exc, IdempotencyMismatch) else "invalid_request_error"
    code = STRIPE_CODE.get(exc.code, exc.code)
    if isinstance(exc, Conflict) and exc.code == "concurrent_update":
        status, type_ = 409, "api_error"  # stripe-python retries 409s
    return stripe_error(status, type_, code, exc.message, exc.param)


def unexpected_error(exc: Exception) -> JSONResponse:
    log.exception("unexpected error in the Stripe dialect", exc_info=exc)
    return stripe_error(500, "api_error", None, "An unexpected error occurred; it has been logged")
