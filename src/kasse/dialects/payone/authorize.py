"""``request=preauthorization|authorization``: Klarna (``clearingtype=fnc``, seed 003) and Sofort
(``clearingtype=sb``, ``onlinebanktransfertype=PNT``, clients.md §4.3). Both answer ``status=REDIRECT``
with ``redirecturl``, ``txid`` and ``userid``.

Klarna: the widget's ``add_paydata[authorization_token]`` for the session ``workorderid`` is Klarna's
approval, so the reservation is made at once and the redirect only returns the customer to ``successurl``
("the customer doesn't need to take any action"). Without a session (the seed's own example sends none)
Klarna's test persons decide (``kasse.domain.klarna_persons``). ``add_paydata[minimum_age]`` is checked
against ``birthday`` on the merchant's clock; a failure goes to
``add_paydata[redirect_url_after_age_verification_failure]`` (else ``errorurl``). ``authorization``
captures at once; ``preauthorization`` waits for ``capture``, and with ``add_paydata[over_capture]=yes``
reserves 10% more so that a capture may exceed the order by that much.

Sofort: the redirect is Kasse's bank page; the customer's answer sends them to ``successurl``, ``errorurl``
or ``backurl``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from kasse.dialects.payone import errors as e
from kasse.dialects.payone import ids, schemas, sessions
from kasse.dialects.payone.auth import Account
from kasse.dialects.payone.data import PayoneData
from kasse.dialects.payone.redirects import AGE_FAILED
from kasse.dialects.payone.rules import RULES
from kasse.dialects.payone.schemas import Form, optional, paydata, required
from kasse.dialects.payone.translate import METHODS
from kasse.domain.klarna_persons import Verdict, verdict_for
from kasse.domain.models import CaptureMethod, Method, Payment
from kasse.engine import payments, webhooks
from kasse.engine.merchants import dialect_settings
from kasse.engine.targets import CheckedUrl
from kasse.engine.unit import Kasse, Tx

__all__ = ["CUSTOMER_FIELDS", "authorize", "customer_of"]

ORIGIN = "payone"
CUSTOMER_FIELDS = (
    "salutation", "title", "firstname", "lastname", "company", "street", "addressaddition", "zip", "city",
    "country", "email", "telephonenumber", "birthday", "language", "gender", "vatid", "customerid",
    "shipping_firstname", "shipping_lastname", "shipping_company", "shipping_street", "shipping_zip",
    "shipping_city", "shipping_country",
)  # fmt: skip


def customer_of(form: Form) -> dict[str, Any]:
    """The customer as given; ``language`` is also the hosted pages' ``locale`` (the Sofort bank page)."""
    customer: dict[str, Any] = {name: form[name] for name in CUSTOMER_FIELDS if form.get(name)}
    if "language" in customer:
        customer["locale"] = customer["language"]
    return customer


@dataclass(frozen=True, slots=True)
class Order:
    cmd: payments.CreatePayment
    klarna: bool
    workorderid: str | None
    authorization_token: str | None
    minimum_age: int | None
    birthday: date | None


def _order(form: Form, who: Account) -> Order:
    request, clearing = required(form, "request"), required(form, "clearingtype")
    amount, currency = schemas.integer(form, "amount"), required(form, "currency")
    country = required(form, "country")
    required(form, "lastname")
    for url in ("successurl", "errorurl", "backurl"):
        required(form, url)
    extra = paydata(form)
    if amount <= 0:
        raise e.parameter("amount", "must be positive")
    if extra.get("shopping_cart_type") == "DIGITAL" and not form.get("email"):
        raise e.parameter("email", "mandatory for a DIGITAL add_paydata[shopping_cart_type]")
    over = extra.get("over_capture") == "yes"
    if over and request != "preauthorization":
        raise e.parameter("add_paydata[over_capture]", "only valid with a preauthorization")
    schemas.cart(form)  # checked; PAYONE keeps the cart, Kasse does not need it
    if clearing == "fnc":
        method = METHODS[required(form, "financingtype")]
    else:
        required(form, "onlinebanktransfertype")
        required(form, "bankcountry")
        if request != "authorization":
            raise e.parameter("request", "Sofort (clearingtype sb) is captured with the authorization")
        method = Method.SOFORT
    data = PayoneData(
        userid=ids.new_userid(), request=request, clearingtype=clearing, financingtype=optional(form, "financingtype"),
        amount_minor=amount, over_capture=over, successurl=form["successurl"], errorurl=form["errorurl"],
        backurl=form["backurl"], age_failure_url=extra.get("redirect_url_after_age_verification_failure"),
        param=optional(form, "param"), customerid=optional(form, "customerid"),
        workorderid=optional(form, "workorderid"), portalid=who.portalid, aid=who.aid,
    )  # fmt: skip
    cmd = payments.CreatePayment(
        amount_minor=amount + (amount // 10 if over else 0), currency=currency, method=method, origin=ORIGIN,
        country=country, description=optional(form, "narrative_text"), reference=optional(form, "reference"),
        return_url=data.successurl, cancel_url=data.backurl, customer=customer_of(form),
        provider_data=data.as_dict(),
        capture_method=CaptureMethod.MANUAL if request == "preauthorization" else CaptureMethod.AUTOMATIC,
    )  # fmt: skip
    age = extra.get("minimum_age")
    return Order(cmd, clearing == "fnc", data.workorderid, extra.get("authorization_token"),
                 int(age) if age else None, schemas.birthday(form))  # fmt: skip


def _years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _klarna_verdict(tx: Tx, order: Order, payment: Payment) -> tuple[bool, str | None]:
    """(approved, failure code) for a Klarna reservation."""
    if order.minimum_age is not None and (
        order.birthday is None or _years(order.birthday, tx.now.date()) < order.minimum_age
    ):
        return False, AGE_FAILED
    if order.workorderid is not None:
        session = sessions.session_for_authorization(tx, order.workorderid, order.authorization_token)
        session.payment_id = payment.id
        tx.store.update_payone_session(session)
        return True, None
    customer = payment.customer
    verdict = verdict_for(email=customer.get("email"), last_name=customer.get("lastname"))
    return verdict is Verdict.APPROVED, None if verdict is Verdict.APPROVED else "klarna_denied"


def _create(tx: Tx, order: Order, status_url: CheckedUrl | None, key: str) -> Payment:
    cmd = order.cmd
    if status_url is not None:
        endpoint = webhooks.notification_endpoint(tx, dialect=ORIGIN, url=status_url, secret=key)
        data = replace(PayoneData.from_dict(cmd.provider_data), notify_endpoint_id=endpoint.id)
        cmd = replace(cmd, provider_data=data.as_dict())
    payment = payments.create_payment(tx, cmd)
    txid = ids.new_txid()
    ids.record_txid(tx, payment, txid)
    data = replace(PayoneData.of(payment), txid=txid)
    payment = payments.update_details(tx, payment.id, provider_data=data.as_dict())
    if not order.klarna:
        return payment
    approved, failure = _klarna_verdict(tx, order, payment)
    if approved:
        return payments.authorize(tx, payment.id)
    message = "The customer is younger than add_paydata[minimum_age]" if failure == AGE_FAILED else None
    return payments.decline(tx, payment.id, code=failure or "klarna_denied", message=message)


def authorize(kasse: Kasse, who: Account, form: Form, base_url: str) -> dict[str, str]:
    order = _order(form, who)
    payments.validate(order.cmd, RULES)  # before anything is written (rule 8)
    with kasse.read() as store:
        url = dialect_settings(store.merchant_settings(merchant_id=who.merchant_id), ORIGIN).get(
            "transaction_status_url"
        )
    status_url = CheckedUrl(url) if isinstance(url, str) else None  # vetted when it was set
    run = kasse.run_locked if status_url is not None else kasse.run
    payment = run(who.merchant_id, _create, order, status_url, who.key)
    data = PayoneData.of(payment)
    path = "pay" if payment.method is Method.SOFORT else "payone/redirect"
    return {"status": "REDIRECT", "redirecturl": f"{base_url}/{path}/{payment.redirect_token}",
            "txid": data.txid, "userid": data.userid}  # fmt: skip
