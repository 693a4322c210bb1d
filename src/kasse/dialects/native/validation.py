"""Request validation errors in the native shape, naming the offending field."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

from kasse.dialects.native.errors import native_error
from kasse.domain.errors import ErrorCode, InvalidRequest
from kasse.edge.json import JSONResponse

__all__ = ["UnsupportedMediaType", "param_name", "require_json", "validation_error"]


class UnsupportedMediaType(InvalidRequest):
    def __init__(self, ctype: str) -> None:
        super().__init__(ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"Content-Type must be application/json, not {ctype}")


async def require_json(request: Request) -> None:
    """A body, when there is one, must be JSON (a form post to a JSON API is a client bug)."""
    has_body = request.headers.get("content-length", "0") not in ("0", "") or "transfer-encoding" in request.headers
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if has_body and ctype != "application/json" and not ctype.endswith("+json"):
        raise UnsupportedMediaType(ctype or "none")


def param_name(loc: Sequence[Any]) -> str | None:
    """``("body", "customer", "email")`` → ``customer.email``; ``("query", "limit")`` → ``limit``."""
    # Pydantic marks a bad dict key with a trailing "[key]": the key itself is the parameter.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "[key]")]
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


def _message(err: dict[str, Any], param: str | None) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", "Invalid value"))
    if kind == "missing":
        return f"Missing required param: {param}" if param else "The request body must be a JSON object"
    if kind == "extra_forbidden":
        return f"Received unknown parameter: {param}"
    if kind in ("json_invalid", "model_attributes_type", "dict_type") and param is None:
        return "The request body must be a JSON object"
    msg = msg.removeprefix("Value error, ")
    if param is not None and param.rpartition(".")[2] == "amount" and kind in _NOT_AN_INTEGER:
        got = type(err.get("input")).__name__.replace("str", "a string").replace("float", "a fraction")
        return (
            f"Invalid {param}: amounts are integers in minor units (2500 = 25.00 EUR), not {got}: "
            f"send {_minor_hint(err.get('input'))}"
        )
    return f"Invalid {param}: {msg}" if param else msg


_NOT_AN_INTEGER = {"int_type", "int_parsing", "int_from_float", "float_type", "float_parsing"}


def _minor_hint(value: Any) -> str:
    """``"25.00"`` or ``25.5`` → ``2500`` / ``2550``: what the client probably meant."""
    try:
        minor = Decimal(str(value)).scaleb(2)
    except (InvalidOperation, ValueError):
        return "e.g. 2500"
    return str(int(minor)) if minor == minor.to_integral_value() else "e.g. 2500"


def _json_position(exc: RequestValidationError, position: Any) -> str:
    """``line 3, column 14`` of the malformed body, as editors count (from 1)."""
    body = exc.body if isinstance(exc.body, str) else None
    if body is None or not isinstance(position, int):
        return ""
    line = body.count("\n", 0, position) + 1
    column = position - (body.rfind("\n", 0, position) + 1) + 1
    return f" at line {line}, column {column}"


def validation_error(exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    first = errors[0] if errors else {"loc": (), "msg": "Invalid request", "type": "value_error"}
    kind = str(first.get("type", ""))
    param = None if kind == "json_invalid" else param_name(first.get("loc", ()))
    if kind == "json_invalid":
        ctx = first.get("ctx")
        detail = ctx.get("error", "invalid JSON") if isinstance(ctx, dict) else "invalid JSON"
        loc = first.get("loc", ())
        where = _json_position(exc, loc[-1] if loc else None)
        return native_error(400, "invalid_request_error", "invalid_json", f"Malformed JSON body{where}: {detail}", None)
    code = {
        "missing": "parameter_missing",
        "extra_forbidden": "parameter_unknown",
        "json_invalid": "invalid_json",
    }.get(kind, "parameter_invalid")
    if param is None and kind in ("model_attributes_type", "dict_type"):
        code = "invalid_json"
    return native_error(400, "invalid_request_error", code, _message(first, param), param)
