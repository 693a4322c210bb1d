"""The sandbox control plane (``/_sandbox``, the merchant's secret key): the clock, the bank's answer
without a browser, and reset. Like moto's ``/moto-api``, separate from every provider's API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.requests import Request

from kasse.dialects.native.auth import merchant_from_bearer
from kasse.dialects.native.errors import ERROR_RESPONSES
from kasse.dialects.native.numbers import INTEGRAL, Integer, Number
from kasse.dialects.native.translate import payment_out
from kasse.dialects.native.validation import require_json
from kasse.domain.webhooks import Faults
from kasse.edge.json import JSONResponse
from kasse.edge.request import base_url, kasse_of
from kasse.engine import merchants, payments, timers
from kasse.engine.idempotency import fingerprint
from kasse.web.advances import AdvanceRequest, clock_body

__all__ = ["router"]

router = APIRouter(
    prefix="/_sandbox", tags=["sandbox"], responses=ERROR_RESPONSES, dependencies=[Depends(require_json)]
)
MerchantId = Annotated[str, Depends(merchant_from_bearer)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)]

MAX_ADVANCE_S = 10 * 365 * 86_400


class AdvanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: Annotated[Number, Field(gt=0, le=MAX_ADVANCE_S)]


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(max_length=60, pattern=r"^[a-z_]+$")] = "bank_declined"
    message: Annotated[str, Field(max_length=500)] | None = None


def _clock(reading: timers.ClockReading) -> dict[str, Any]:
    return clock_body(reading)


@router.get("/clock")
def get_clock(request: Request, merchant_id: MerchantId) -> JSONResponse:
    return JSONResponse(_clock(timers.read_clock(kasse_of(request), merchant_id=merchant_id)))


@router.post("/clock/advance")
def advance(
    request: Request, body: AdvanceIn, merchant_id: MerchantId, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Move this merchant's clock forward; every timer and webhook retry that falls due happens first.
    Waits for an advance of this merchant still running; `202` with a status resource when it takes
    longer than the server's budget (`KASSE_ADVANCE_SYNC_S`)."""
    payload = body.model_dump(mode="json")
    outcome = request.app.state.advances.start(
        AdvanceRequest(merchant_id, body.seconds, idempotency_key, fingerprint("POST", request.url.path, payload))
    )
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if outcome.status == 202:
        headers["Location"] = outcome.body["url"]
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


@router.get("/clock/advances/{advance_id}")
def advance_status(request: Request, advance_id: str, merchant_id: MerchantId) -> JSONResponse:
    """An advance answered `202`: `running`, then `succeeded` with the clock in `result` (or `failed`)."""
    return JSONResponse(request.app.state.advances.status(merchant_id=merchant_id, run_id=advance_id))


@router.post("/clock/freeze")
def freeze(request: Request, merchant_id: MerchantId) -> JSONResponse:
    return JSONResponse(_clock(timers.freeze_clock(kasse_of(request), merchant_id=merchant_id)))


@router.post("/clock/resume")
def resume(request: Request, merchant_id: MerchantId) -> JSONResponse:
    return JSONResponse(_clock(timers.resume_clock(kasse_of(request), merchant_id=merchant_id)))


@router.post("/payments/{payment_id}/approve")
def approve(request: Request, payment_id: str, merchant_id: MerchantId) -> JSONResponse:
    """What the customer's approval on the bank page does, without a browser."""
    payment = kasse_of(request).run(merchant_id, payments.authorize, payment_id)
    return JSONResponse(payment_out(payment, base_url(request)))


@router.post("/payments/{payment_id}/decline")
def decline(request: Request, payment_id: str, merchant_id: MerchantId, body: DeclineIn | None = None) -> JSONResponse:
    body = body or DeclineIn()
    payment = kasse_of(request).run(merchant_id, payments.decline, payment_id, code=body.code, message=body.message)
    return JSONResponse(payment_out(payment, base_url(request)))


@router.post("/reset")
def reset(request: Request, merchant_id: MerchantId) -> JSONResponse:
    """Delete this merchant's payments, events, ledger, timers and keys; credentials and clock stay."""
    kasse_of(request).run(merchant_id, merchants.reset_data)
    return JSONResponse({"object": "reset", "merchant": merchant_id, "deleted": True})


class FaultsIn(BaseModel):
    """Shares are 0..1 of deliveries (or of batches, for reorder)."""

    model_config = ConfigDict(extra="forbid")
    drop: Annotated[Number, Field(ge=0, le=1)] = 0.0
    delay: Annotated[Number, Field(ge=0, le=1)] = 0.0
    delay_seconds: Annotated[StrictInt, Field(ge=0, le=7 * 86_400), INTEGRAL] = 0
    duplicate: Annotated[Number, Field(ge=0, le=1)] = 0.0
    reorder: Annotated[Number, Field(ge=0, le=1)] = 0.0
    seed: Integer | None = None


def _faults_out(faults: Faults) -> dict[str, Any]:
    return {
        "object": "faults", "drop": faults.drop, "delay": faults.delay, "delay_seconds": faults.delay_s,
        "duplicate": faults.duplicate, "reorder": faults.reorder, "seed": faults.seed, "active": faults.active,
    }  # fmt: skip


def _save_faults(request: Request, merchant_id: str, faults: Faults | None) -> Faults:
    kasse_of(request).run(merchant_id, merchants.put_setting, "faults", None if faults is None else faults.as_dict())
    return faults or Faults()


@router.get("/faults")
def get_faults(request: Request, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        settings = store.merchant_settings(merchant_id=merchant_id)
    return JSONResponse(_faults_out(Faults.from_dict(settings.get("faults"))))


@router.post("/faults")
def set_faults(request: Request, body: FaultsIn, merchant_id: MerchantId) -> JSONResponse:
    """Drop, hold back, duplicate or reorder a share of this merchant's webhook deliveries, so a shop can
    prove its handler copes. Replaces the previous setting; `DELETE` turns every fault off."""
    faults = Faults(body.drop, body.delay, body.delay_seconds, body.duplicate, body.reorder, body.seed)
    return JSONResponse(_faults_out(_save_faults(request, merchant_id, faults)))


@router.delete("/faults")
def clear_faults(request: Request, merchant_id: MerchantId) -> JSONResponse:
    return JSONResponse(_faults_out(_save_faults(request, merchant_id, None)))
