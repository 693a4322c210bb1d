"""HTTP of payment transactions: ``…/payment/transactions/{payment_transaction_id}`` (read), ``/captures``,
``/refunds``, ``/captures/{payment_capture_id}/refunds`` and ``/void``, unscoped and account-scoped."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.klarna import transactions
from kasse.dialects.klarna.data import KlarnaTransactionData
from kasse.dialects.klarna.routes import both
from kasse.dialects.klarna.schemas import CaptureIn, RefundIn, parse
from kasse.dialects.klarna.translate import capture_out, refund_out, transaction_out
from kasse.dialects.klarna.wire import Body, KlarnaRoute, Partner, idempotent
from kasse.domain.models import Payment, Refund
from kasse.edge.json import JSONResponse
from kasse.edge.request import kasse_of
from kasse.engine.unit import Tx

__all__ = ["router"]

router = APIRouter(prefix="/klarna/v2", route_class=KlarnaRoute, include_in_schema=False)
PATH = "/payment/transactions/{payment_transaction_id}"


def _out(tx: Tx, payment: Payment) -> dict[str, Any]:
    found = tx.store.captures_of(merchant_id=tx.merchant_id, payment_id=payment.id)
    return transaction_out(payment, found, tx.store.refunds_of(merchant_id=tx.merchant_id, payment_id=payment.id))


def _read(tx: Tx, transaction_id: str) -> dict[str, Any]:
    return _out(tx, transactions.find(tx, transaction_id, for_update=False))


@both(router, "GET", PATH)
def read_transaction(request: Request, payment_transaction_id: str, who: Partner) -> Response:
    return JSONResponse(kasse_of(request).run(who.merchant_id, _read, payment_transaction_id))


@both(router, "POST", PATH + "/captures", 201)
def capture(request: Request, payment_transaction_id: str, who: Partner, payload: Body) -> Response:
    body = parse(CaptureIn, payload)

    def operation(tx: Tx) -> tuple[int, Any]:
        payment, made = transactions.capture(tx, payment_transaction_id, body)
        return 201, capture_out(KlarnaTransactionData.from_dict(payment.provider_data), made)

    return idempotent(request, who, operation)


def _refund_answer(tx: Tx, payment: Payment, made: Refund) -> tuple[int, Any]:
    ordered = sorted(tx.store.refunds_of(merchant_id=tx.merchant_id, payment_id=payment.id), key=lambda r: r.id)
    number = next(n for n, r in enumerate(ordered, 1) if r.id == made.id)
    return 201, refund_out(KlarnaTransactionData.from_dict(payment.provider_data), made, number)


@both(router, "POST", PATH + "/refunds", 201)
def refund(request: Request, payment_transaction_id: str, who: Partner, payload: Body) -> Response:
    body = parse(RefundIn, payload)
    return idempotent(
        request, who, lambda tx: _refund_answer(tx, *transactions.refund(tx, payment_transaction_id, body))
    )


@both(router, "POST", PATH + "/captures/{payment_capture_id}/refunds", 201)
def refund_capture(
    request: Request, payment_transaction_id: str, payment_capture_id: str, who: Partner, payload: Body
) -> Response:
    body = parse(RefundIn, payload)

    def operation(tx: Tx) -> tuple[int, Any]:
        return _refund_answer(tx, *transactions.refund(tx, payment_transaction_id, body, payment_capture_id))

    return idempotent(request, who, operation)


@both(router, "POST", PATH + "/void")
def void(request: Request, payment_transaction_id: str, who: Partner) -> Response:
    return idempotent(request, who, lambda tx: (200, _out(tx, transactions.void(tx, payment_transaction_id))))
