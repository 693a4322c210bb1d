"""secuconnect's error shape (developer.secuconnect.com "Error Handling"): an HTTP status other than 200
and ``{"status": "error", "error": "<Exception name>", "error_details", "error_user", "code",
"supportId"}``. pretix-secuconnect raises ``SecuconnectException`` exactly when ``status`` is ``error``
and ``error_details`` is present.

The published example is ``403 ProductNotAllowedException`` / 2003 "Valid auth token required"; the
other exception names and codes follow secuconnect's families (1xxx internal, 2xxx authentication,
3xxx input, 4xxx objects) and are Kasse's choice where the documentation lists none (docs/secuconnect.md).
Every engine error code is mapped (tests/test_dialect_maps.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from kasse.domain.errors import DomainError, ErrorCode
from kasse.edge.json import JSONResponse

__all__ = [
    "DOMAIN_ERRORS",
    "Kind",
    "SecuError",
    "error_body",
    "error_response",
    "from_domain",
]


@dataclass(frozen=True, slots=True)
class Kind:
    error: str  # the exception name secuconnect answers with
    code: int
    status: int


INTERNAL = Kind("ProductInternalException", 1001, 500)
CONFLICT = Kind("ProductInternalException", 1001, 409)  # a race: the client may try again
AUTH_TOKEN = Kind("ProductNotAllowedException", 2003, 403)  # the documented example
AUTH_CLIENT = Kind("ProductNotAllowedException", 2001, 401)
INVALID = Kind("ProductFormatException", 3001, 400)
MISSING = Kind("ProductMissingParametersException", 3002, 400)
AMOUNT = Kind("ProductFormatException", 3003, 400)
NOT_FOUND = Kind("ProductNotFoundException", 4001, 404)
NOT_ALLOWED = Kind("ProductNotAllowedException", 2010, 409)  # the object's status does not allow it


class SecuError(Exception):
    """An error answered in secuconnect's shape; raised by the dialect, rendered by its routes."""

    def __init__(self, kind: Kind, details: str, *, user: str | None = None) -> None:
        super().__init__(details)
        self.kind = kind
        self.details = details
        self.user = user


def error_body(exc: SecuError) -> dict[str, object]:
    user = exc.user or f"Es ist ein unbekannter Fehler aufgetreten (Code {exc.kind.code})"
    return {
        "status": "error",
        "error": exc.kind.error,
        "error_details": exc.details,
        "error_user": user,
        "code": exc.kind.code,
        "supportId": secrets.token_hex(16),  # secuconnect's is 32 hex characters, one per answer
    }


def error_response(exc: SecuError) -> JSONResponse:
    return JSONResponse(error_body(exc), status_code=exc.kind.status)


E = ErrorCode
# Every engine code as a secuconnect error (tests/test_dialect_maps.py fails on a gap).
DOMAIN_ERRORS: dict[ErrorCode, Kind] = {
    E.PARAMETER_INVALID: INVALID,
    E.PARAMETER_MISSING: MISSING,
    E.PARAMETER_UNKNOWN: INVALID,
    E.UNSUPPORTED_MEDIA_TYPE: INVALID,
    E.IDEMPOTENCY_KEY_INVALID: INVALID,
    E.INVALID_API_KEY: AUTH_TOKEN,
    E.URL_INVALID: INVALID,
    E.URL_REFUSED: INVALID,
    E.INVALID_AMOUNT: AMOUNT,
    E.INVALID_CURRENCY: INVALID,
    E.INVALID_EXPIRES_IN: INVALID,
    E.AMOUNT_OUT_OF_RANGE: AMOUNT,
    E.AMOUNT_TOO_LARGE: AMOUNT,
    E.CURRENCY_NOT_SUPPORTED: INVALID,
    E.COUNTRY_NOT_SUPPORTED: INVALID,
    E.CURRENCY_COUNTRY_MISMATCH: INVALID,
    E.CAPTURE_METHOD_NOT_SUPPORTED: INVALID,
    E.RESOURCE_MISSING: NOT_FOUND,
    E.INVALID_STATE: NOT_ALLOWED,
    E.PAYMENT_NOT_OPEN: NOT_ALLOWED,
    E.PAYMENT_EXPIRED: NOT_ALLOWED,
    E.NOTHING_TO_CAPTURE: NOT_ALLOWED,
    E.PAYMENT_NOT_REFUNDABLE: NOT_ALLOWED,
    E.ALREADY_REFUNDED: NOT_ALLOWED,
    E.REFUND_WINDOW_EXPIRED: NOT_ALLOWED,
    E.IDEMPOTENCY_KEY_REUSED: NOT_ALLOWED,
    E.CONCURRENT_UPDATE: CONFLICT,
    E.DATABASE_CONFLICT: CONFLICT,
    E.CLOCK_ADVANCE_RUNNING: CONFLICT,
    E.EXTERNAL_ID_TAKEN: NOT_ALLOWED,
}


def from_domain(exc: DomainError) -> SecuError:
    return SecuError(DOMAIN_ERRORS[exc.code], exc.message)
