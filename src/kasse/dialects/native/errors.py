"""The native error shape ``{"error": {"type", "code", "message", "param"}}``: every domain error class has
an HTTP status (``STATUS_FOR``) and keeps its own stable code; ``ERROR_RESPONSES`` names the shape for the
OpenAPI document. Provider dialects translate domain errors to their own shapes in their own ``errors.py``."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from kasse.dialects.native.schemas import ErrorOut
from kasse.domain.errors import (
    Conflict,
    DomainError,
    IdempotencyMismatch,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    Unauthenticated,
)

__all__ = ["ERROR_RESPONSES", "STATUS_FOR", "error_response", "native_error"]

STATUS_FOR: dict[type[DomainError], int] = {
    InvalidRequest: 400,
    Unauthenticated: 401,
    NotFound: 404,
    InvalidTransition: 409,
    Conflict: 409,
    IdempotencyMismatch: 422,
}


def native_error(status: int, type_: str, code: str, message: str, param: str | None = None) -> JSONResponse:
    body = {"error": {"type": type_, "code": code, "message": message, "param": param}}
    headers = {"WWW-Authenticate": 'Bearer realm="kasse"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def error_response(exc: DomainError) -> JSONResponse:
    status = next((STATUS_FOR[cls] for cls in type(exc).__mro__ if cls in STATUS_FOR), 400)
    return native_error(status, exc.kind, exc.code, exc.message, exc.param)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid request: the error names the field"},
    401: {"model": ErrorOut, "description": "Missing or invalid secret key"},
    404: {"model": ErrorOut, "description": "No such object (objects of other merchants look the same)"},
    409: {"model": ErrorOut, "description": "Not allowed in the object's current state"},
    413: {"model": ErrorOut, "description": "Request body too large"},
    415: {"model": ErrorOut, "description": "The body must be application/json"},
    422: {"model": ErrorOut, "description": "Idempotency-Key reused with a different request"},
}
