"""Klarna's error shape, ``{error_id, error_type, error_code, error_message, validation_errors}`` (Klarna
"Error handling"; the SDK's ``InputErrorValidationError``), and the map from every engine error code to
it. ``error_type`` follows the HTTP status: 400 INPUT_ERROR, 401/403 ACCESS_ERROR (403 of an operation
the object's state or a limit forbids: RESOURCE_ERROR), 404/409 RESOURCE_ERROR, 500 TECHNICAL_ERROR."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from kasse.domain.errors import DomainError, ErrorCode
from kasse.edge.json import JSONResponse

__all__ = ["DOMAIN_CODES", "KlarnaError", "Violation", "error_body", "from_domain", "klarna_error_response"]

INPUT_ERROR = "INPUT_ERROR"
ACCESS_ERROR = "ACCESS_ERROR"
RESOURCE_ERROR = "RESOURCE_ERROR"
TECHNICAL_ERROR = "TECHNICAL_ERROR"

# (status, error_type, error_code) of each kind of answer Kasse gives.
BAD_INPUT = (400, INPUT_ERROR, "INPUT_ERROR")
UNAUTHORIZED = (401, ACCESS_ERROR, "UNAUTHORIZED")
FORBIDDEN = (403, RESOURCE_ERROR, "OPERATION_FORBIDDEN")
NOT_FOUND = (404, RESOURCE_ERROR, "RESOURCE_NOT_FOUND")
CONFLICT = (409, RESOURCE_ERROR, "RESOURCE_CONFLICT")
INTERNAL = (500, TECHNICAL_ERROR, "INTERNAL_ERROR")


@dataclass(frozen=True, slots=True)
class Violation:
    parameter: str
    reason: str


@dataclass
class KlarnaError(Exception):
    """An error answered in Klarna's shape; raised by the dialect, rendered by its route class."""

    kind: tuple[int, str, str]
    message: str
    violations: list[Violation] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @classmethod
    def invalid(cls, parameter: str, reason: str) -> KlarnaError:
        return cls(BAD_INPUT, f"Invalid request: {parameter}: {reason}", [Violation(parameter, reason)])


def error_body(kind: tuple[int, str, str], message: str, violations: list[Violation] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error_id": str(uuid.uuid4()),
        "error_type": kind[1],
        "error_code": kind[2],
        "error_message": message,
    }
    if violations:
        body["validation_errors"] = [{"parameter": v.parameter, "reason": v.reason} for v in violations]
    return body


def klarna_error_response(exc: KlarnaError) -> JSONResponse:
    return JSONResponse(error_body(exc.kind, exc.message, exc.violations), status_code=exc.kind[0])


E = ErrorCode
# Every engine code as a Klarna answer (tests/test_dialect_maps.py fails on a gap).
DOMAIN_CODES: dict[ErrorCode, tuple[int, str, str]] = {
    E.PARAMETER_INVALID: BAD_INPUT,
    E.PARAMETER_MISSING: BAD_INPUT,
    E.PARAMETER_UNKNOWN: BAD_INPUT,
    E.UNSUPPORTED_MEDIA_TYPE: (400, INPUT_ERROR, "INVALID_CONTENT_TYPE"),
    E.IDEMPOTENCY_KEY_INVALID: BAD_INPUT,
    E.INVALID_API_KEY: UNAUTHORIZED,
    E.URL_INVALID: BAD_INPUT,
    E.URL_REFUSED: BAD_INPUT,
    E.INVALID_AMOUNT: BAD_INPUT,
    E.INVALID_CURRENCY: BAD_INPUT,
    E.INVALID_EXPIRES_IN: BAD_INPUT,
    E.AMOUNT_OUT_OF_RANGE: BAD_INPUT,
    E.AMOUNT_TOO_LARGE: FORBIDDEN,  # a capture or refund above what is left: a limit, not bad input
    E.CURRENCY_NOT_SUPPORTED: BAD_INPUT,
    E.COUNTRY_NOT_SUPPORTED: BAD_INPUT,
    E.CURRENCY_COUNTRY_MISMATCH: BAD_INPUT,
    E.CAPTURE_METHOD_NOT_SUPPORTED: BAD_INPUT,
    E.RESOURCE_MISSING: NOT_FOUND,
    E.INVALID_STATE: FORBIDDEN,
    E.PAYMENT_NOT_OPEN: FORBIDDEN,
    E.PAYMENT_EXPIRED: FORBIDDEN,
    E.NOTHING_TO_CAPTURE: FORBIDDEN,
    E.PAYMENT_NOT_REFUNDABLE: FORBIDDEN,
    E.ALREADY_REFUNDED: FORBIDDEN,
    E.REFUND_WINDOW_EXPIRED: FORBIDDEN,
    E.IDEMPOTENCY_KEY_REUSED: CONFLICT,
    E.CONCURRENT_UPDATE: CONFLICT,
    E.DATABASE_CONFLICT: CONFLICT,
    E.CLOCK_ADVANCE_RUNNING: CONFLICT,
    E.EXTERNAL_ID_TAKEN: CONFLICT,
}


def from_domain(exc: DomainError) -> KlarnaError:
    kind = DOMAIN_CODES[exc.code]
    violations = [Violation(exc.param, exc.message)] if kind[1] == INPUT_ERROR and exc.param else []
    return KlarnaError(kind, exc.message, violations)
