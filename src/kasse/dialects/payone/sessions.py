"""PAYONE's Klarna sessions (seed 003, ``request=genericpayment``): start, update, the widget's
authorization, cancel_authorization and expiry. A session is the dialect's own object (``payone_sessions``),
changed only inside a unit of work; it "remains valid for 48 hours after the last update" on the merchant's
clock (a ``payone_session_expiry`` timer, and a check at every use for the time before the timer fires).

Statuses: ``open`` (started or updated) → ``authorized`` (the customer approved in the widget; it has an
``authorization_token``) → ``canceled`` (cancel_authorization) or ``expired``. A (pre)authorization
with the token turns it into a payment (``payment_id``) and it stays ``authorized``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from kasse.dialects.payone import errors as e
from kasse.dialects.payone import ids
from kasse.domain.klarna_persons import Verdict, verdict_for
from kasse.engine import payments
from kasse.engine.unit import Tx
from kasse.storage.store import PayoneSession

__all__ = [
    "SESSION_TTL_S",
    "TIMER_KIND",
    "NewSession",
    "WidgetAnswer",
    "cancel_authorization",
    "expire",
    "session_for_authorization",
    "start",
    "update",
    "widget_authorize",
]

SESSION_TTL_S = 48 * 3600
TIMER_KIND = "payone_session_expiry"


@dataclass(frozen=True, slots=True)
class NewSession:
    financingtype: str
    currency: str
    country: str
    amount_minor: int
    language: str
    customer: dict[str, Any]
    cart: list[dict[str, Any]]


def _expired(session_id: str) -> e.PayoneError:
    return e.PayoneError(e.AUTHORISATION_EXPIRED, f"The authorisation has expired: session {session_id}", "expired")


def _touch(tx: Tx, session: PayoneSession) -> None:
    session.updated_at = tx.now
    session.expires_at = tx.now + timedelta(seconds=SESSION_TTL_S)
    tx.schedule(TIMER_KIND, session.id, after_s=SESSION_TTL_S)


def start(tx: Tx, new: NewSession) -> PayoneSession:
    session_id = ids.new_session_id()
    token = ids.client_token(merchant_id=tx.merchant_id, session_id=session_id, country=new.country,
                             language=new.language)  # fmt: skip
    session = PayoneSession(
        id=ids.new_workorderid(), merchant_id=tx.merchant_id, session_id=session_id, client_token=token,
        status="open", financingtype=new.financingtype, currency=new.currency, country=new.country,
        amount_minor=new.amount_minor, expires_at=tx.now, created_at=tx.now, updated_at=tx.now,
        customer=new.customer, cart=new.cart,
    )  # fmt: skip
    _touch(tx, session)
    tx.store.insert_payone_session(session)
    return session


def _usable(tx: Tx, session: PayoneSession | None, what: str) -> PayoneSession:
    if session is None:
        raise e.parameter(what, "no such session")
    if session.status == "expired" or tx.now >= session.expires_at:
        raise _expired(session.session_id)
    if session.status == "canceled":
        raise e.PayoneError(e.AUTHORISATION_DENIED, f"Authorisation denied: session {session.session_id} was canceled")
    return session


def update(tx: Tx, workorderid: str, session_id: str | None, new: NewSession, limit_minor: int | None) -> PayoneSession:
    """The complete new cart (seed 003). ``limit_minor``: the reservation's amount when the update names
    one (``reservation_txid``) — the new total may be lower, never higher."""
    session = _usable(tx, tx.store.get_payone_session(merchant_id=tx.merchant_id, workorderid=workorderid,
                                                      for_update=True), "workorderid")  # fmt: skip
    if session_id is not None and session_id != session.session_id:
        raise e.parameter("add_paydata[session_id]", "does not belong to this workorderid")
    if limit_minor is not None and new.amount_minor > limit_minor:
        raise e.PayoneError(
            e.AMOUNT_TOO_HIGH, f"The total {new.amount_minor} exceeds the reserved {limit_minor}", "failed"
        )
    session.financingtype, session.currency, session.country = new.financingtype, new.currency, new.country
    session.amount_minor, session.cart = new.amount_minor, new.cart
    session.customer = {**session.customer, **new.customer}
    _touch(tx, session)
    tx.store.update_payone_session(session)
    return session


@dataclass(frozen=True, slots=True)
class WidgetAnswer:
    """What ``Klarna.Payments.authorize`` calls back with."""

    approved: bool
    show_form: bool
    authorization_token: str | None = None

    def as_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"approved": self.approved, "show_form": self.show_form}
        if self.authorization_token is not None:
            answer["authorization_token"] = self.authorization_token
        return answer


def widget_authorize(tx: Tx, session_id: str, client_token: str, approve: bool) -> WidgetAnswer:
    """The customer's answer in the widget. Klarna's test persons decide an approval (a last name or
    e-mail with "denied" is refused: ``show_form`` false, the method is not offered again); a customer
    who closes the dialog gets ``approved`` false with the form still shown."""
    found = tx.store.find_payone_session(merchant_id=tx.merchant_id, session_id=session_id, for_update=True)
    if found is None or found.client_token != client_token:
        raise e.parameter("client_token", "unknown client token")
    session = _usable(tx, found, "client_token")
    if session.payment_id is not None:
        raise e.PayoneError(e.TRANSACTION_STATE, "This session has already been used for a payment", "failed")
    if not approve:
        return WidgetAnswer(approved=False, show_form=True)
    customer = session.customer
    if verdict_for(email=customer.get("email"), last_name=customer.get("lastname")) is Verdict.DENIED:
        return WidgetAnswer(approved=False, show_form=False)
    session.status, session.authorization_token = "authorized", ids.new_authorization_token()
    session.updated_at = tx.now
    tx.store.update_payone_session(session)
    return WidgetAnswer(approved=True, show_form=True, authorization_token=session.authorization_token)


def session_for_authorization(tx: Tx, workorderid: str, authorization_token: str | None) -> PayoneSession:
    """The session a (pre)authorization names, approved in the widget and not used yet."""
    found = tx.store.get_payone_session(merchant_id=tx.merchant_id, workorderid=workorderid, for_update=True)
    session = _usable(tx, found, "workorderid")
    if authorization_token is None or session.authorization_token != authorization_token:
        raise e.parameter("add_paydata[authorization_token]", "not the token the widget gave for this session")
    if session.payment_id is not None:
        raise e.PayoneError(e.TRANSACTION_STATE, "This authorization token has already been used", "failed")
    return session


def cancel_authorization(tx: Tx, authorization_token: str) -> PayoneSession:
    """Withdraw the widget's authorization; a reservation made with it is canceled too."""
    found = tx.store.find_payone_session_by_authorization(
        merchant_id=tx.merchant_id, authorization_token=authorization_token, for_update=True
    )
    if found is None or found.status == "canceled":
        raise e.parameter("add_paydata[authorization_token]", "no such authorization")
    if found.payment_id is not None:
        payment = payments.get_payment(tx, found.payment_id)
        if payment.amount_captured_minor:
            raise e.PayoneError(e.TRANSACTION_STATE, "The reservation has been captured already", "failed")
        payments.cancel(tx, found.payment_id, reason="requested_by_merchant")
    found.status, found.updated_at = "canceled", tx.now
    tx.store.update_payone_session(found)
    return found


def expire(tx: Tx, workorderid: str) -> None:
    """Timer: 48 hours after the last update. A later update moved the deadline: then nothing."""
    session = tx.store.get_payone_session(merchant_id=tx.merchant_id, workorderid=workorderid, for_update=True)
    if session is None or session.status in ("canceled", "expired") or tx.now < session.expires_at:
        return
    session.status, session.updated_at = "expired", tx.now
    tx.store.update_payone_session(session)
