"""Errors at the edge in Kasse's native shape: ``{"error": {"type", "code", "message", "param"}}``.

Provider dialects translate domain errors to their own shapes in their own ``errors.py``.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

from kasse.dialects.native.errors import STATUS_FOR
from kasse.domain.errors import DomainError

__all__ = ["error_response", "native_error"]


def native_error(status: int, type_: str, code: str, message: str, param: str | None = None) -> JSONResponse:
    body = {"error": {"type": type_, "code": code, "message": message, "param": param}}
    headers = {"WWW-Authenticate": 'Bearer realm="kasse"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def error_response(exc: DomainError) -> JSONResponse:
    return native_error(STATUS_FOR[exc.code], exc.kind, exc.code, exc.message, exc.param)
