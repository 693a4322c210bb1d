"""Balance and balance transactions, read from the ledger: a charge's capture transfer (pending until
the money arrives), a failed charge's reversal, a refund's payout to the customer. Fees are zero."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from kasse.dialects.stripe import schemas
from kasse.dialects.stripe import translate as out
from kasse.dialects.stripe.errors import StripeCode, StripeRefusal
from kasse.dialects.stripe.wire import MerchantId, Params, StripeRoute, stripe_list
from kasse.domain.errors import NotFound
from kasse.domain.ledger import Transfer
from kasse.domain.states import CaptureState
from kasse.edge.request import kasse_of
from kasse.engine import balances
from kasse.storage.store import Store

__all__ = ["balance_transaction", "router"]

router = APIRouter(prefix="/stripe/v1", route_class=StripeRoute, include_in_schema=False)

CODES = ["capture", "settlement_failed", "refund"]
_TYPES = {"capture": "charge", "settlement_failed": "payment_failure_refund", "refund": "refund"}


def transaction_out(store: Store, t: Transfer) -> dict[str, Any]:
    amount = out.transfer_amount(t)
    source, status, available_on = None, "available", t.created_at
    if t.code == "refund":
        amount, source = -amount, out.stripe_id(t.refund_id) if t.refund_id else None
    else:
        caps = store.captures_of(merchant_id=t.merchant_id, payment_id=t.payment_id) if t.payment_id else []
        cap = caps[0] if caps else None
        source = out.stripe_id(cap.id) if cap else None
        if t.code == "settlement_failed":
            amount = -amount
        elif cap is not None:
            status = "available" if cap.status is CaptureState.SUCCEEDED else "pending"
            available_on = cap.settles_at
    return {
        "id": out.stripe_id(t.id), "object": "balance_transaction", "amount": amount,
        "available_on": out.ts(available_on), "created": out.ts(t.created_at), "currency": t.currency.lower(),
        "description": None, "exchange_rate": None, "fee": 0, "fee_details": [], "net": amount,
        "reporting_category": _TYPES[t.code], "source": source, "status": status, "type": _TYPES[t.code],
    }  # fmt: skip


def balance_transaction(store: Store, merchant_id: str, txn_id: str) -> dict[str, Any]:
    transfer_id = out.kasse_id(txn_id, "txn")
    found = None if transfer_id is None else store.get_transfer(merchant_id=merchant_id, transfer_id=transfer_id)
    if found is None or found.code not in CODES or not found.moves_money:
        raise NotFound("balance_transaction", txn_id, param="id")
    return transaction_out(store, found)


@router.get("/balance")
def get_balance(request: Request, merchant_id: MerchantId) -> JSONResponse:
    """``available``: settled money less refunds; ``pending``: charges whose money is still in transit."""
    found = balances.balances(kasse_of(request), merchant_id=merchant_id)

    def money(amount: int, currency: str) -> dict[str, Any]:
        return {"amount": amount, "currency": currency.lower(), "source_types": {"bank_account": amount}}

    available = [money(b.available, b.currency) for b in found]
    pending = [money(b.pending, b.currency) for b in found]
    return JSONResponse({"object": "balance", "available": available, "pending": pending, "livemode": False})


@router.get("/balance_transactions")
def list_balance_transactions(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    page_in = schemas.list_in(params)
    cursors = []
    for value in (page_in.starting_after, page_in.ending_before):
        found = None if value is None else out.kasse_id(value, "txn")
        if value is not None and found is None:
            raise StripeRefusal(
                StripeCode.RESOURCE_MISSING, f"No such balance transaction: '{value}'", param="starting_after"
            )
        cursors.append(found)
    with kasse_of(request).read() as store:
        page = store.list_transfers_with_codes(
            merchant_id=merchant_id, codes=CODES, limit=page_in.limit, starting_after=cursors[0],
            ending_before=cursors[1],
        )  # fmt: skip
        items = [transaction_out(store, t) for t in page.items if t.moves_money]
    return stripe_list("/v1/balance_transactions", items, page.has_more)


@router.get("/balance_transactions/{txn_id}")
def get_balance_transaction(request: Request, txn_id: str, merchant_id: MerchantId) -> JSONResponse:
    with kasse_of(request).read() as store:
        return JSONResponse(balance_transaction(store, merchant_id, txn_id))
