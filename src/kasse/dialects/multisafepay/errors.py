"""MultiSafepay's error shape, ``{"success": false, "data": {}, "error_code", "error_info"}``, with its
codes (MultiSafepay docs, "Error reference") and an HTTP status each. Every engine error code is mapped."""

from __future__ import annotations

from kasse.domain.errors import DomainError, ErrorCode
from kasse.edge.json import JSONResponse

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
INCORRECT_ITEM_PRICE = 1031
INVALID_API_KEY = 1032
CANNOT_REFUND = 1034

# How MultiSafepay words each code (the headings of its error reference).
TITLES = {
    UNKNOWN: "Unknown error",
    INVALID_AMOUNT: "Invalid amount",
    INVALID_CURRENCY: "Invalid currency",
    INVALID_ORDER_ID: "Invalid transaction ID",
    INVALID_DESCRIPTION: "Invalid description",
    INVALID_VARIABLE: "Invalid variable",
    MISSING_DATA: "Missing data",
    INVALID_COUNTRY: "Invalid country code",
    GATEWAY_UNAVAILABLE: "Gateway unavailable",
    REFUSED: "Transaction refused",
    INCORRECT_ITEM_PRICE: "Incorrect item price",
    INVALID_API_KEY: "Invalid API key",
    CANNOT_REFUND: "Cannot refund transaction",
}


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


E = ErrorCode
# Every engine code as a MultiSafepay code and HTTP status (tests/test_dialect_maps.py fails on a gap).
DOMAIN_CODES: dict[ErrorCode, tuple[int, int]] = {
    E.PARAMETER_INVALID: (MISSING_DATA, 400),
    E.PARAMETER_MISSING: (MISSING_DATA, 400),
    E.PARAMETER_UNKNOWN: (MISSING_DATA, 400),
    E.UNSUPPORTED_MEDIA_TYPE: (MISSING_DATA, 400),
    E.IDEMPOTENCY_KEY_INVALID: (MISSING_DATA, 400),
    E.INVALID_API_KEY: (INVALID_API_KEY, 401),
    E.URL_INVALID: (MISSING_DATA, 400),
    E.URL_REFUSED: (MISSING_DATA, 400),
    E.INVALID_AMOUNT: (INVALID_AMOUNT, 400),
    E.INVALID_CURRENCY: (INVALID_CURRENCY, 400),
    E.INVALID_EXPIRES_IN: (MISSING_DATA, 400),
    E.AMOUNT_OUT_OF_RANGE: (INVALID_AMOUNT, 400),
    E.AMOUNT_TOO_LARGE: (CANNOT_REFUND, 400),
    E.CURRENCY_NOT_SUPPORTED: (INVALID_CURRENCY, 400),
    E.COUNTRY_NOT_SUPPORTED: (REFUSED, 400),
    E.CURRENCY_COUNTRY_MISMATCH: (MISSING_DATA, 400),
    E.CAPTURE_METHOD_NOT_SUPPORTED: (MISSING_DATA, 400),
    E.RESOURCE_MISSING: (INVALID_ORDER_ID, 404),
    E.INVALID_STATE: (UNKNOWN, 409),
    E.PAYMENT_NOT_OPEN: (UNKNOWN, 409),
    E.PAYMENT_EXPIRED: (UNKNOWN, 409),
    E.NOTHING_TO_CAPTURE: (UNKNOWN, 409),
    E.PAYMENT_NOT_REFUNDABLE: (CANNOT_REFUND, 409),
    E.ALREADY_REFUNDED: (CANNOT_REFUND, 409),
    E.REFUND_WINDOW_EXPIRED: (CANNOT_REFUND, 409),
    E.IDEMPOTENCY_KEY_REUSED: (UNKNOWN, 409),
    E.CONCURRENT_UPDATE: (UNKNOWN, 409),
    E.DATABASE_CONFLICT: (UNKNOWN, 409),
    E.CLOCK_ADVANCE_RUNNING: (UNKNOWN, 409),
    E.EXTERNAL_ID_TAKEN: (INVALID_ORDER_ID, 409),
}


# What MultiSafepay adds to the heading, in its words: never the engine's message, which names Kasse's
# ids (``pay_…``) and its states (``requires_action``).
_DETAILS: dict[ErrorCode, str] = {
    E.AMOUNT_OUT_OF_RANGE: "the minimum amount for this payment method is 10",
    E.AMOUNT_TOO_LARGE: "the refund amount exceeds the amount left to refund",
    E.ALREADY_REFUNDED: "the order has already been refunded",
    E.PAYMENT_NOT_REFUNDABLE: "the order has not been paid",
    E.REFUND_WINDOW_EXPIRED: "the order is too old to be refunded",
    E.CURRENCY_NOT_SUPPORTED: "this payment method only accepts EUR",
    E.COUNTRY_NOT_SUPPORTED: "this payment method is not available in the customer's country",
    E.PAYMENT_NOT_OPEN: "the order is no longer initialized",
    E.PAYMENT_EXPIRED: "the order has expired",
    E.INVALID_STATE: "the order cannot be changed in its current status",
}


def titled(code: int, detail: str | None = None) -> str:
    title = TITLES.get(code, TITLES[UNKNOWN])
    return f"{title}: {detail}" if detail else title


# Errors about the request itself: their message names the field and the rule, never an id or a state.
_ABOUT_THE_REQUEST = frozenset({
    E.PARAMETER_INVALID, E.PARAMETER_MISSING, E.PARAMETER_UNKNOWN, E.UNSUPPORTED_MEDIA_TYPE,
    E.URL_INVALID, E.URL_REFUSED, E.INVALID_AMOUNT, E.INVALID_CURRENCY, E.INVALID_EXPIRES_IN,
    E.CURRENCY_COUNTRY_MISMATCH, E.CAPTURE_METHOD_NOT_SUPPORTED,
})  # fmt: skip


def from_domain(exc: DomainError) -> MspError:
    code, status = DOMAIN_CODES[exc.code]
    detail = exc.message if exc.code in _ABOUT_THE_REQUEST else _DETAILS.get(exc.code)
    return MspError(code, titled(code, detail), status)
