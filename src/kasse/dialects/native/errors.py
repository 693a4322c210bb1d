"""Native errors: every domain error class has an HTTP status (``kasse.web.errors.STATUS_FOR``) and keeps
its own stable code; this module only names the native error shape for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from kasse.dialects.native.schemas import ErrorOut

__all__ = ["ERROR_RESPONSES"]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid request: the error names the field"},
    401: {"model": ErrorOut, "description": "Missing or invalid secret key"},
    404: {"model": ErrorOut, "description": "No such object (objects of other merchants look the same)"},
    409: {"model": ErrorOut, "description": "Not allowed in the object's current state"},
    413: {"model": ErrorOut, "description": "Request body too large"},
    415: {"model": ErrorOut, "description": "The body must be application/json"},
    422: {"model": ErrorOut, "description": "Idempotency-Key reused with a different request"},
}
