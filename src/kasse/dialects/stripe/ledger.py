"""Balance and balance transactions, read from the ledger: a charge's capture transfer (pending until
the money arrives), a failed charge's reversal, a refund's payout to the customer. Fees are zero."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from kasse.dialects.stripe import translate as out
from kasse.dialects.stripe.expand import Expander, expand_in
from kasse.dialects.stripe.fields import check_known
from kasse.dialects.stripe.listing import ListIn, cursors, exists, list_in
from kasse.dialects.stripe.loaders import CODES, TYPES, balance_transaction, find_charge, transaction_out
from kasse.dialects.stripe.wire import MerchantId, Params, StripeRoute, list_body
from kasse.edge.json import JSONResponse
from kasse.edge.request import base_url, kasse_of
from kasse.engine import balances
from kasse.storage.store import Store

__all__ = ["router"]

router = APIRouter(prefix="/stripe/v1", route_class=StripeRoute, include_in_schema=False)


@router.get("/balance")
def get_balance(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    """``available``: settled money less refunds; ``pending``: charges whose money is still in transit."""
    check_known(params, {"expand"})
    expand_in(params, "balance")
    found = balances.balances(kasse_of(request), merchant_id=merchant_id)

    def money(amount: int, currency: str) -> dict[str, Any]:
        return {"amount": amount, "currency": currency.lower(), "source_types": {"bank_account": amount}}

    available = [money(b.available, b.currency) for b in found]
    pending = [money(b.pending, b.currency) for b in found]
    return JSONResponse({"object": "balance", "available": available, "pending": pending, "livemode": False})


_FILTERS = ("currency", "payout", "source", "type")


def _filters(page_in: ListIn) -> dict[str, Any] | None:
    """The query for Stripe's filters, or None where nothing can match (Kasse has no payouts)."""
    given = page_in.filters
    codes = [c for c, t in TYPES.items() if t == given["type"]] if "type" in given else CODES
    query: dict[str, Any] = {"codes": codes, "currency": given["currency"].upper() if "currency" in given else None}
    source = given.get("source")
    if source is not None:
        prefix = source.partition("_")[0]
        if prefix == "ch":
            query["payment_id"] = source  # resolved to the charge's payment by the caller
            query["codes"] = [c for c in codes if c != "refund"]
        elif prefix == "re":
            query["refund_id"] = out.kasse_id(source, "re")
            query["codes"] = [c for c in codes if c == "refund"]
        else:
            return None
    return None if "payout" in given or not query["codes"] else query


@router.get("/balance_transactions")
def list_balance_transactions(request: Request, merchant_id: MerchantId, params: Params) -> JSONResponse:
    page_in = list_in(params, _FILTERS, created=True)
    paths = expand_in(params, "list:balance_transaction")
    url = "/v1/balance_transactions"
    query = _filters(page_in)
    with kasse_of(request).read() as store:
        after, before = cursors(page_in, "balance transaction", lambda i: _transfer_id(store, merchant_id, i))
        if query is not None and "payment_id" in query:
            charge_id = str(query["payment_id"])
            payment_id = exists(lambda: find_charge(store, merchant_id, charge_id).payment_id)
            query = None if payment_id is None else {**query, "payment_id": payment_id}
        if query is None:
            return JSONResponse(list_body(url, [], False))
        page = store.list_transfers_with_codes(
            merchant_id=merchant_id, limit=page_in.limit, starting_after=after, ending_before=before,
            created=page_in.created, **query,
        )  # fmt: skip
        items = [transaction_out(store, t) for t in page.items if t.moves_money]
        body = Expander(store, merchant_id, base_url(request)).apply(list_body(url, items, page.has_more), paths)
    return JSONResponse(body)


def _transfer_id(store: Store, merchant_id: str, txn_id: str) -> str | None:
    return exists(lambda: str(balance_transaction(store, merchant_id, txn_id)["id"]).replace("txn_", "tr_", 1))


@router.get("/balance_transactions/{txn_id}")
def get_balance_transaction(request: Request, txn_id: str, merchant_id: MerchantId, params: Params) -> JSONResponse:
    check_known(params, {"expand"})
    paths = expand_in(params, "balance_transaction")
    with kasse_of(request).read() as store:
        found = balance_transaction(store, merchant_id, txn_id)
        return JSONResponse(Expander(store, merchant_id, base_url(request)).apply(found, paths))
