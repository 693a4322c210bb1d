"""``request=genericpayment`` with ``clearingtype=fnc``: Klarna's sessions (seed 003), dispatched on
``add_paydata[action]``: ``start_session``, ``update_session``, ``cancel_authorization``.

The session's total is the cart's (``pr[n]`` times ``no[n]``) when a cart is sent, else ``amount``: the seed says
``amount`` is "Fixed Value: 0" yet its own examples send 3000 with a cart of 2340, so Kasse checks the
format of ``amount`` but takes the total from the cart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kasse.dialects.payone import errors as e
from kasse.dialects.payone import ids, schemas, sessions
from kasse.dialects.payone.auth import Account
from kasse.dialects.payone.authorize import ORIGIN, customer_of
from kasse.dialects.payone.data import PayoneData
from kasse.dialects.payone.rules import RULES
from kasse.dialects.payone.schemas import Form, optional, paydata, required
from kasse.dialects.payone.translate import ASSET_PATH, CATEGORIES, METHODS
from kasse.engine import payments
from kasse.engine.unit import Kasse, Tx
from kasse.storage.store import PayoneSession

__all__ = ["genericpayment"]


def _new_session(form: Form) -> sessions.NewSession:
    if required(form, "clearingtype") != "fnc":
        raise e.parameter("clearingtype", "genericpayment sessions are Klarna's (clearingtype fnc)")
    financingtype, currency = required(form, "financingtype"), required(form, "currency")
    country = required(form, "country")
    amount = schemas.integer(form, "amount")
    items = schemas.cart(form)
    total = schemas.cart_total(items) if items else amount
    if total < 0:
        raise e.parameter("amount", "the cart's total is negative")
    # Klarna's countries and currencies, as a payment would be checked (a session may total 0).
    probe = payments.CreatePayment(
        amount_minor=max(total, 1), currency=currency, method=METHODS[financingtype], origin=ORIGIN, country=country
    )
    payments.validate(probe, RULES)
    return sessions.NewSession(
        financingtype=financingtype, currency=currency, country=country, amount_minor=total,
        language=optional(form, "language") or "en", customer=customer_of(form), cart=items,
    )  # fmt: skip


def _categories(session: PayoneSession, base_url: str) -> dict[str, str]:
    identifier, name = CATEGORIES[session.financingtype]
    return {
        "add_paydata[payment_method_category_identifier]": identifier,
        "add_paydata[payment_method_category_name]": name,
        "add_paydata[payment_method_category_asset_url_descriptive]": base_url + ASSET_PATH,
        "add_paydata[payment_method_category_asset_url_standard]": base_url + ASSET_PATH,
    }


def _start(kasse: Kasse, who: Account, form: Form, base_url: str) -> dict[str, str]:
    # ``lastname`` is "required" in the seed's table, yet Shopware's test-credentials call starts a session
    # without any customer: Kasse checks it when sent (the test persons read it) and requires it at the
    # (pre)authorization.
    session = kasse.run(who.merchant_id, sessions.start, _new_session(form))
    return {
        "status": "APPROVED", **_categories(session, base_url),
        "add_paydata[client_token]": session.client_token, "add_paydata[session_id]": session.session_id,
        "workorderid": session.id,
    }  # fmt: skip


def _update_in(tx: Tx, form: Form, new: sessions.NewSession) -> tuple[PayoneSession, str | None]:
    reservation = paydata(form).get("reservation_txid")
    limit, payment, data = None, None, PayoneData()
    if reservation is not None:
        payment = ids.find_payment(tx.store, merchant_id=tx.merchant_id, txid=reservation)
        if payment is None:
            raise e.parameter("add_paydata[reservation_txid]", "no such reservation")
        data = PayoneData.of(payment)
        if payment.amount_captured_minor >= data.amount_minor:
            raise e.PayoneError(e.TRANSACTION_STATE, "The reservation is fully captured: no more updates", "failed")
        limit = data.amount_minor
    session = sessions.update(tx, required(form, "workorderid"), paydata(form).get("session_id"), new, limit)
    if payment is not None:
        lowered = PayoneData.from_dict({**data.as_dict(), "amount_minor": new.amount_minor})
        payments.update_details(tx, payment.id, provider_data=lowered.as_dict())
    return session, reservation


def _update(kasse: Kasse, who: Account, form: Form, base_url: str) -> dict[str, str]:
    new = _new_session(form)
    session, reservation = kasse.run(who.merchant_id, _update_in, form, new)
    answer = {"status": "APPROVED"}
    if reservation is not None:
        answer["addresponsedata[reservation_txid]"] = reservation
    answer["addresponsedata[authorized_payment_method]"] = CATEGORIES[session.financingtype][0]
    answer["addresponsedata[workorderid]"] = session.id
    answer["workorderid"] = session.id
    return answer


def _cancel(kasse: Kasse, who: Account, form: Form, base_url: str) -> dict[str, str]:
    token = paydata(form).get("authorization_token")
    if token is None:
        raise e.parameter("add_paydata[authorization_token]", "missing")
    session = kasse.run(who.merchant_id, sessions.cancel_authorization, token)
    return {"status": "APPROVED", "workorderid": session.id}


_ACTIONS: dict[str, Callable[[Kasse, Account, Form, str], dict[str, str]]] = {
    "start_session": _start,
    "update_session": _update,
    "cancel_authorization": _cancel,
}


def genericpayment(kasse: Kasse, who: Account, form: Form, base_url: str) -> dict[str, Any]:
    action = paydata(form).get("action")
    if action is None:
        raise e.parameter("add_paydata[action]", "missing")
    return _ACTIONS[action](kasse, who, form, base_url)
