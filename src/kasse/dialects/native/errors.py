"""Native errors in the shape ``{"error": {"type", "code", "message", "param"}}``: the native API answers
with the engine's own codes, so its map gives every code an HTTP status. The OpenAPI document names the
shape. Provider dialects translate domain errors to their own shapes in their own ``errors.py``."""

from __future__ import annotations

from typing import Any

from kasse.dialects.native.schemas import ErrorOut
from kasse.domain.errors import DomainError, ErrorCode
from kasse.edge.json import JSONResponse

__all__ = ["ERROR_RESPONSES", "STATUS_FOR", "error_response", "native_error"]

E = ErrorCode
# Every engine code (tests/test_dialect_maps.py fails on a gap); no default.
STATUS_FOR: dict[ErrorCode, int] = {
    E.PARAMETER_INVALID: 400,
    E.PARAMETER_MISSING: 400,
    E.PARAMETER_UNKNOWN: 400,
    E.UNSUPPORTED_MEDIA_TYPE: 415,
    E.IDEMPOTENCY_KEY_INVALID: 400,
    E.INVALID_API_KEY: 401,
    E.URL_INVALID: 400,
    E.URL_REFUSED: 400,
    E.INVALID_AMOUNT: 400,
    E.INVALID_CURRENCY: 400,
    E.INVALID_EXPIRES_IN: 400,
    E.AMOUNT_OUT_OF_RANGE: 400,
    E.AMOUNT_TOO_LARGE: 400,
    E.CURRENCY_NOT_SUPPORTED: 400,
    E.COUNTRY_NOT_SUPPORTED: 400,
    E.CURRENCY_COUNTRY_MISMATCH: 400,
    E.CAPTURE_METHOD_NOT_SUPPORTED: 400,
    E.RESOURCE_MISSING: 404,
    E.INVALID_STATE: 409,
    E.PAYMENT_NOT_OPEN: 409,
    E.PAYMENT_EXPIRED: 409,
    E.NOTHING_TO_CAPTURE: 409,
    E.PAYMENT_NOT_REFUNDABLE: 409,
    E.ALREADY_REFUNDED: 409,
    E.REFUND_WINDOW_EXPIRED: 409,
    E.IDEMPOTENCY_KEY_REUSED: 422,
    E.CONCURRENT_UPDATE: 409,
    E.DATABASE_CONFLICT: 409,
    E.CLOCK_ADVANCE_RUNNING: 409,
    E.EXTERNAL_ID_TAKEN: 409,
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid request: the error names the field"},
    401: {"model": ErrorOut, "description": "Missing or invalid secret key"},
    404: {"model": ErrorOut, "description": "No such object (objects of other merchants look the same)"},
    409: {"model": ErrorOut, "description": "Not allowed in the object's current state"},
    413: {"model": ErrorOut, "description": "Request body too large"},
    415: {"model": ErrorOut, "description": "The body must be application/json"},
    422: {"model": ErrorOut, "description": "Idempotency-Key reused with a different request"},
}


def native_error(status: int, type_: str, code: str, message: str, param: str | None = None) -> JSONResponse:
    body = {"error": {"type": type_, "code": code, "message": message, "param": param}}
    headers = {"WWW-Authenticate": 'Bearer realm="kasse"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def error_response(exc: DomainError) -> JSONResponse:
    return native_error(STATUS_FOR[exc.code], exc.kind, exc.code, exc.message, exc.param)
