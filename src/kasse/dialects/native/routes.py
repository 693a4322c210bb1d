"""HTTP handlers of the native API: decode, call the engine, encode. Nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query
from starlette.requests import Request

from kasse.dialects.native import translate as out
from kasse.dialects.native.auth import merchant_from_bearer
from kasse.dialects.native.errors import ERROR_RESPONSES
from kasse.dialects.native.origin import ORIGIN
from kasse.dialects.native.schemas import (
    BalanceOut,
    CancelIn,
    CaptureIn,
    CreatePaymentIn,
    EventOut,
    ListOut,
    PaymentOut,
    RefundIn,
    RefundOut,
)
from kasse.dialects.native.validation import require_json
from kasse.domain.errors import ErrorCode, InvalidRequest, NotFound
from kasse.domain.events import is_known_type_filter
from kasse.domain.models import Scenario
from kasse.domain.states import PaymentState
from kasse.edge.json import JSONResponse
from kasse.edge.request import base_url, kasse_of
from kasse.engine import balances, captures, payments, refunds
from kasse.engine.idempotency import Outcome, arun_idempotent, fingerprint, run_idempotent
from kasse.engine.unit import Tx

__all__ = ["router"]


router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES, dependencies=[Depends(require_json)])

MerchantId = Annotated[str, Depends(merchant_from_bearer)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=40, description="An object id")]


def _respond(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


def _post(request: Request, merchant_id: str, key: str | None, payload: Any, operation: Any) -> JSONResponse:
    return _respond(
        run_idempotent(
            kasse_of(request), merchant_id=merchant_id, scope=ORIGIN, key=key,
            fingerprint=fingerprint(request.method, request.url.path, payload), operation=operation,
        )
    )  # fmt: skip


async def _apost(request: Request, merchant_id: str, key: str | None, payload: Any, operation: Any) -> JSONResponse:
    """``_post`` awaiting the engine's writer: no thread-pool hop for the unit of work."""
    return _respond(
        await arun_idempotent(
            kasse_of(request), merchant_id=merchant_id, scope=ORIGIN, key=key,
            fingerprint=fingerprint(request.method, request.url.path, payload), operation=operation,
        )
    )  # fmt: skip


def _one_cursor(starting_after: str | None, ending_before: str | None) -> None:
    if starting_after and ending_before:
        raise InvalidRequest(
            ErrorCode.PARAMETER_INVALID, "Give starting_after or ending_before, not both", param="ending_before"
        )


def _list(request: Request, items: list[Any], has_more: bool) -> JSONResponse:
    return JSONResponse({"object": "list", "data": items, "has_more": has_more, "url": request.url.path})


@router.post("/payments", status_code=201, response_model=PaymentOut, tags=["payments"])
async def create_payment(
    request: Request, body: CreatePaymentIn, merchant_id: MerchantId, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Create a payment; send the customer to `next_action.redirect_url`."""
    sandbox = body.sandbox
    cmd = payments.CreatePayment(
        amount_minor=body.amount, currency=body.currency, method=body.method, origin=ORIGIN, country=body.country,
        description=body.description, reference=body.reference, return_url=body.return_url,
        cancel_url=body.cancel_url, customer=body.customer.model_dump(exclude_none=True) if body.customer else {},
        metadata=body.metadata, capture_method=body.capture, expires_in_s=body.expires_in,
        scenario=Scenario(sandbox.approval, sandbox.settlement) if sandbox else Scenario(),
    )  # fmt: skip

    def operation(tx: Tx) -> tuple[int, Any]:
        return 201, out.payment_out(payments.create_payment(tx, cmd), base_url(request))

    return await _apost(request, merchant_id, idempotency_key, body.model_dump(mode="json"), operation)


@router.get("/payments/{payment_id}", response_model=PaymentOut, tags=["payments"])
def get_payment(request: Request, payment_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        payment = store.get_payment(merchant_id=merchant_id, payment_id=payment_id)
    if payment is None:
        raise NotFound("payment", payment_id, param="id")
    return JSONResponse(out.payment_out(payment, base_url(request)))


def _parse_time(value: str | None, param: str) -> datetime | None:
    if value is None:
        return None
    try:
        if value.isdigit():
            return datetime.fromtimestamp(int(value), tz=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise InvalidRequest(
            ErrorCode.PARAMETER_INVALID, f"Invalid {param}: use ISO 8601 or Unix seconds", param=param
        ) from None
    if parsed.tzinfo is None:
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Invalid {param}: give a time zone (e.g. Z)", param=param)
    return parsed


@router.get("/payments", response_model=ListOut, tags=["payments"])
def list_payments(
    request: Request,
    merchant_id: MerchantId,
    limit: Limit = 10,
    starting_after: Cursor = None,
    ending_before: Cursor = None,
    status: Annotated[str | None, Query(pattern="^[a-z_]+$", max_length=20)] = None,
    created_gte: Annotated[str | None, Query(max_length=40, description="ISO 8601 or Unix seconds")] = None,
    created_lt: Annotated[str | None, Query(max_length=40, description="ISO 8601 or Unix seconds")] = None,
) -> JSONResponse:
    """Newest first. Page with `starting_after` (the last id of a page) or `ending_before`."""
    if status is not None and status not in {state.value for state in PaymentState}:
        known = ", ".join(state.value for state in PaymentState)
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Unknown status '{status}': one of {known}", param="status")
    gte, lt = _parse_time(created_gte, "created_gte"), _parse_time(created_lt, "created_lt")
    _one_cursor(starting_after, ending_before)
    with kasse_of(request).read() as store:
        page = store.list_payments(
            merchant_id=merchant_id, limit=limit, starting_after=starting_after, ending_before=ending_before,
            status=status, created_gte=gte, created_lt=lt,
        )  # fmt: skip
    return _list(request, [out.payment_out(p, base_url(request)) for p in page.items], page.has_more)


@router.post("/payments/{payment_id}/capture", response_model=PaymentOut, tags=["payments"])
def capture_payment(
    request: Request, payment_id: str, merchant_id: MerchantId,
    body: Annotated[CaptureIn | None, Body()] = None, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    """Capture an authorized payment, fully or partly (`final: false` keeps the rest capturable)."""
    body = body or CaptureIn()

    def operation(tx: Tx) -> tuple[int, Any]:
        captures.capture(tx, payment_id, amount_minor=body.amount, final=body.final)
        return 200, out.payment_out(payments.get_payment(tx, payment_id), base_url(request))

    return _post(request, merchant_id, idempotency_key, body.model_dump(mode="json"), operation)


@router.post("/payments/{payment_id}/cancel", response_model=PaymentOut, tags=["payments"])
def cancel_payment(
    request: Request, payment_id: str, merchant_id: MerchantId,
    body: Annotated[CancelIn | None, Body()] = None, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    """Cancel a payment the customer has not finished, or void an uncaptured authorization."""
    body = body or CancelIn()

    def operation(tx: Tx) -> tuple[int, Any]:
        payment = payments.cancel(tx, payment_id, reason=body.reason or "requested_by_merchant")
        return 200, out.payment_out(payment, base_url(request))

    return _post(request, merchant_id, idempotency_key, body.model_dump(mode="json"), operation)


@router.post("/payments/{payment_id}/refunds", status_code=201, response_model=RefundOut, tags=["refunds"])
def refund_payment(
    request: Request, payment_id: str, merchant_id: MerchantId,
    body: Annotated[RefundIn | None, Body()] = None, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    """Refund all or part of what was captured. While the payment is `processing` the refund waits."""
    body = body or RefundIn()

    def operation(tx: Tx) -> tuple[int, Any]:
        refund = refunds.create_refund(
            tx, payment_id, amount_minor=body.amount, reason=body.reason, metadata=body.metadata
        )
        return 201, out.refund_out(refund)

    return _post(request, merchant_id, idempotency_key, body.model_dump(mode="json"), operation)


@router.get("/payments/{payment_id}/captures", response_model=ListOut, tags=["payments"])
def list_captures(request: Request, payment_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        if store.get_payment(merchant_id=merchant_id, payment_id=payment_id) is None:
            raise NotFound("payment", payment_id, param="id")
        items = store.captures_of(merchant_id=merchant_id, payment_id=payment_id)
    return _list(request, [out.capture_out(c) for c in items], False)


@router.get("/payments/{payment_id}/refunds", response_model=ListOut, tags=["refunds"])
def list_payment_refunds(request: Request, payment_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        if store.get_payment(merchant_id=merchant_id, payment_id=payment_id) is None:
            raise NotFound("payment", payment_id, param="id")
        items = store.refunds_of(merchant_id=merchant_id, payment_id=payment_id)
    return _list(request, [out.refund_out(r) for r in items], False)


@router.get("/refunds/{refund_id}", response_model=RefundOut, tags=["refunds"])
def get_refund(request: Request, refund_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        refund = store.get_refund(merchant_id=merchant_id, refund_id=refund_id)
    if refund is None:
        raise NotFound("refund", refund_id, param="id")
    return JSONResponse(out.refund_out(refund))


@router.get("/events", response_model=ListOut, tags=["events"])
def list_events(
    request: Request,
    merchant_id: MerchantId,
    limit: Limit = 10,
    starting_after: Cursor = None,
    ending_before: Cursor = None,
    type: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z_.*:-]+$", description="e.g. payment.*")] = None,
    payment_id: Cursor = None,
) -> JSONResponse:
    _one_cursor(starting_after, ending_before)
    if type is not None and not is_known_type_filter(type, request.app.state.dialects):
        raise InvalidRequest(
            ErrorCode.PARAMETER_INVALID,
            f"Unknown event type '{type}': e.g. payment.succeeded, payment.* or stripe:charge.succeeded",
            param="type",
        )
    with kasse_of(request).read() as store:
        page = store.list_events(
            merchant_id=merchant_id, limit=limit, starting_after=starting_after, ending_before=ending_before,
            type=type, payment_id=payment_id,
        )  # fmt: skip
    return _list(request, [out.event_out(e, base_url(request)) for e in page.items], page.has_more)


@router.get("/events/{event_id}", response_model=EventOut, tags=["events"])
def get_event(request: Request, event_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        event = store.get_event(merchant_id=merchant_id, event_id=event_id)
    if event is None:
        raise NotFound("event", event_id, param="id")
    return JSONResponse(out.event_out(event, base_url(request)))


@router.get("/balance", response_model=BalanceOut, tags=["balance"])
def get_balance(request: Request, merchant_id: MerchantId) -> JSONResponse:
    """`available`: settled money less refunds in flight; `pending`: captured money still in transit."""
    found = balances.balances(kasse_of(request), merchant_id=merchant_id)
    available = [{"amount": b.available, "currency": b.currency} for b in found]
    pending = [{"amount": b.pending, "currency": b.currency} for b in found]
    return JSONResponse({"object": "balance", "available": available, "pending": pending})


@router.get("/ledger/transfers", response_model=ListOut, tags=["balance"])
def list_transfers(
    request: Request,
    merchant_id: MerchantId,
    limit: Limit = 10,
    starting_after: Cursor = None,
    ending_before: Cursor = None,
    payment_id: Cursor = None,
) -> JSONResponse:
    """The double-entry ledger, newest first: every transfer's legs sum to zero."""
    _one_cursor(starting_after, ending_before)
    with kasse_of(request).read() as store:
        page = store.list_transfers(
            merchant_id=merchant_id, limit=limit, starting_after=starting_after, ending_before=ending_before,
            payment_id=payment_id,
        )  # fmt: skip
    return _list(request, [out.transfer_out(t) for t in page.items], page.has_more)
