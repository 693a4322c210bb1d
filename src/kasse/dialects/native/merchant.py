"""``/api/v1/merchant``: the settings the provider dialects read, changed through the native API
(``PATCH {"payone": {"transaction_status_url": "https://shop.example/payone/status"}}``; ``null`` removes
one). Which settings exist is what each dialect declares (``Dialect.settings``, found in the app's
dialect mapping — the native dialect imports none of them); a ``webhook_url`` passes the webhook target
policy here, at registration, and again before each send."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from starlette.requests import Request

from kasse.dialects.native.auth import merchant_from_bearer
from kasse.dialects.native.errors import ERROR_RESPONSES
from kasse.dialects.native.validation import require_json
from kasse.domain.errors import ErrorCode, InvalidRequest
from kasse.edge.json import JSONResponse
from kasse.edge.request import kasse_of, targets_of
from kasse.engine import merchants

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES, dependencies=[Depends(require_json)])
MerchantId = Annotated[str, Depends(merchant_from_bearer)]
MAX_URL = 2048


def _declared(request: Request) -> dict[str, Mapping[str, str]]:
    return {name: d.settings for name, d in request.app.state.dialects.items() if d.settings}


def _settings(request: Request, merchant_id: str) -> dict[str, Any]:
    with kasse_of(request).read() as store:
        stored = store.merchant_settings(merchant_id=merchant_id)
    return {"id": merchant_id, **{name: merchants.dialect_settings(stored, name) for name in _declared(request)}}


def _value(request: Request, param: str, kind: str, value: object) -> object:
    if value is None:
        return None
    if kind == "webhook_url":
        if not isinstance(value, str) or len(value) > MAX_URL:
            raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"{param} must be a URL", param=param)
        return str(targets_of(request).vet(value, param=param))
    raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"{param} cannot be set", param=param)


def _changes(request: Request, body: object) -> dict[str, dict[str, object]]:
    """Every change checked before any is written (rule 8)."""
    declared = _declared(request)
    if not isinstance(body, dict) or not body:
        raise InvalidRequest(ErrorCode.PARAMETER_MISSING, 'Send the settings to change, e.g. {"payone": {…}}')
    changes: dict[str, dict[str, object]] = {}
    for dialect, values in body.items():
        if dialect not in declared:
            raise InvalidRequest(ErrorCode.PARAMETER_UNKNOWN, f"Unknown settings: {dialect}", param=str(dialect))
        if not isinstance(values, dict):
            raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"{dialect} must be an object", param=str(dialect))
        for name, value in values.items():
            param = f"{dialect}.{name}"
            if name not in declared[dialect]:
                raise InvalidRequest(ErrorCode.PARAMETER_UNKNOWN, f"Unknown setting: {param}", param=param)
            changes.setdefault(dialect, {})[name] = _value(request, param, declared[dialect][name], value)
    return changes


@router.get("/merchant", tags=["merchant"])
def get_merchant(request: Request, merchant_id: MerchantId) -> JSONResponse:
    """The merchant's settings for the provider dialects."""
    return JSONResponse(_settings(request, merchant_id))


@router.patch("/merchant", tags=["merchant"])
def update_merchant(request: Request, merchant_id: MerchantId, body: Annotated[Any, Body()] = None) -> JSONResponse:
    """Change settings of the provider dialects (PAYONE's `transaction_status_url`)."""
    for dialect, values in _changes(request, body).items():
        kasse_of(request).run(merchant_id, merchants.put_dialect_settings, dialect, values)
    return JSONResponse(_settings(request, merchant_id))
