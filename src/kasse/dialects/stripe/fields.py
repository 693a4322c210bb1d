"""Stripe's parameter checks shared by every endpoint: each refusal names the parameter as Stripe does."""

from __future__ import annotations

from typing import Any

from kasse.dialects.stripe.errors import StripeCode as S
from kasse.dialects.stripe.errors import StripeRefusal
from kasse.domain.errors import ErrorCode as E
from kasse.domain.errors import InvalidRequest
from kasse.domain.urls import http_url_problem

__all__ = ["check_known", "hash_", "integer", "invalid", "metadata_in", "missing", "string", "url"]

# Stripe's metadata limits: 50 keys, key names up to 40 characters, values up to 500.
MAX_METADATA_KEYS, MAX_KEY, MAX_VALUE = 50, 40, 500


def invalid(code: E | S | None, message: str, param: str) -> InvalidRequest:
    if code is None or isinstance(code, S):
        return StripeRefusal(code, message, param=param)
    return InvalidRequest(code, message, param=param)


def missing(param: str) -> InvalidRequest:
    return invalid(E.PARAMETER_MISSING, f"Missing required param: {param}.", param)


def check_known(params: dict[str, Any], allowed: set[str]) -> None:
    for key in params:
        if key not in allowed:
            raise invalid(E.PARAMETER_UNKNOWN, f"Received unknown parameter: {key}", key)


def string(params: dict[str, Any], name: str, *, param: str | None = None, max_length: int = 5000) -> str | None:
    value = params.get(name)
    param = param or name
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(E.PARAMETER_INVALID, f"Invalid string: {param} must be a string", param)
    if len(value) > max_length:
        raise invalid(E.PARAMETER_INVALID, f"Invalid {param}: at most {max_length} characters", param)
    return value


def url(params: dict[str, Any], name: str, *, param: str | None = None) -> str | None:
    """Stripe answers a bad URL with ``url_invalid`` and "Not a valid URL" (its error-code list)."""
    param = param or name
    value = string(params, name, param=param, max_length=10_000)
    problem = None if not value else http_url_problem(value)
    if problem is not None:
        raise invalid(E.URL_INVALID, f"Not a valid URL: {param} {problem}", param)
    return value


def integer(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip().lstrip("-").isdigit():
        raise invalid(S.PARAMETER_INVALID_INTEGER, f"Invalid integer: {value}", name)
    return int(value)


def hash_(params: dict[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(E.PARAMETER_INVALID, f"Invalid hash: {name} must be a hash", name)
    return value


def metadata_in(params: dict[str, Any]) -> dict[str, str | None]:
    """Stripe's metadata update semantics: a key set to "" is removed (None here)."""
    raw = hash_(params, "metadata")
    if len(raw) > MAX_METADATA_KEYS:
        raise invalid(E.PARAMETER_INVALID, f"Invalid metadata: at most {MAX_METADATA_KEYS} keys", "metadata")
    out: dict[str, str | None] = {}
    for key, value in raw.items():
        param = f"metadata[{key}]"
        if len(key) > MAX_KEY:
            raise invalid(E.PARAMETER_INVALID, f"Invalid metadata key: at most {MAX_KEY} characters", param)
        if not isinstance(value, str):
            raise invalid(E.PARAMETER_INVALID, f"Invalid metadata value for {key}: must be a string", param)
        if len(value) > MAX_VALUE:
            raise invalid(E.PARAMETER_INVALID, f"Invalid metadata value: at most {MAX_VALUE} characters", param)
        out[key] = value or None
    return out
