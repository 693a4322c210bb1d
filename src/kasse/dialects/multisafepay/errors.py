"""MultiSafepay's error shape, ``{"success": false, "data": {}, "error_code", "error_info"}``, with its
codes (MultiSafepay docs, "Error reference") and an HTTP status each. Every domain error is mapped."""

from __future__ import annotations

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

__all__ = [
    "DOMAIN_CODES",
    "MspError",
    "error_body",
    "from_domain",
    "msp_error_response",
]

# The codes Kasse answers with (MultiSafepay "Error reference").
UNKNOWN = 1000
INVALID_AMOUNT = 1001
INVALID_CURRENCY = 1002
INVALID_ORDER_ID = 1006  # also an unknown order: "Invalid transaction ID"
INVALID_DESCRIPTION = 1008
INVALID_VARIABLE = 1010
MISSING_DATA = 1016
INVALID_COUNTRY = 1018
GATEWAY_UNAVAILABLE = 1023
REFUSED = 1024
INVALID_API_KEY = 1032
CANNOT_REFUND = 1034


class MspError(Exception):
    """An error answered in MultiSafepay's shape; raised by the dialect, rendered by its routes."""

    def __init__(self, code: int, info: str, status: int = 400) -> None:
        super().__init__(info)
        self.code = code
        self.info = info
        self.status = status


def error_body(code: int, info: str) -> dict[str, object]:
    return {"success": False, "data": {}, "error_code": code, "error_info": info}


def msp_error_response(exc: MspError) -> JSONResponse:
    return JSONResponse(error_body(exc.code, exc.info), status_code=exc.status)


# Engine error codes with a MultiSafepay code of their own; anything else by its class below.
DOMAIN_CODES: dict[str, tuple[int, int]] = {
    "amount_out_of_range": (INVALID_AMOUNT, 400),
    "amount_too_large": (CANNOT_REFUND, 400),
    "invalid_amount": (INVALID_AMOUNT, 400),
    "currency_not_supported": (INVALID_CURRENCY, 400),
    "invalid_currency": (INVALID_CURRENCY, 400),
    "country_not_supported": (REFUSED, 400),
    "payment_not_refundable": (CANNOT_REFUND, 409),
    "already_refunded": (CANNOT_REFUND, 409),
    "refund_window_expired": (CANNOT_REFUND, 409),
    "payment_expired": (UNKNOWN, 409),
    "resource_missing": (INVALID_ORDER_ID, 404),
    "invalid_api_key": (INVALID_API_KEY, 401),
}

_BY_CLASS: dict[type[DomainError], tuple[int, int]] = {
    Unauthenticated: (INVALID_API_KEY, 401),
    NotFound: (INVALID_ORDER_ID, 404),
    InvalidTransition: (UNKNOWN, 409),
    Conflict: (UNKNOWN, 409),
    IdempotencyMismatch: (UNKNOWN, 409),
    InvalidRequest: (MISSING_DATA, 400),
}


def from_domain(exc: DomainError) -> MspError:
    if exc.code in DOMAIN_CODES:
        code, status = DOMAIN_CODES[exc.code]
    else:
        code, status = next((_BY_CLASS[c] for c in type(exc).__mro__ if c in _BY_CLASS), (UNKNOWN, 400))
    if code == INVALID_ORDER_ID:
        return MspError(code, "Invalid transaction ID", status)
    if code == INVALID_API_KEY:
        return MspError(code, "Invalid API key", status)
    if code == REFUSED:
        return MspError(code, f"Transaction refused: {exc.message}", status)
    return MspError(code, exc.message, status)
