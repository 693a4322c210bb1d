"""Errors at the edge in Kasse's native shape: ``{"error": {"type", "code", "message", "param"}}``.

Provider dialects translate domain errors to their own shapes in their own ``errors.py``.
"""

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

__all__ = ["STATUS_FOR", "error_response", "native_error"]

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
