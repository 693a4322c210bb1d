"""PAYONE's rules beyond the happy path: every financingtype's category, the age check and its failure URL,
Klarna's denied test persons without a session, update_session's limits, debits before a capture, the
ISO-8859-1 and multipart transports. SQLite and PostgreSQL; the ledger balances after each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from kasse.engine.merchants import SANDBOX
from kasse.engine.unit import Kasse
from tests.helpers import check
from tests.payone_helpers import GATEWAY, approve_in_sandbox, creds, lines, payment_of, post, shopware_common

SHOP = "http://shop.example"


@pytest.fixture
def api(client: TestClient) -> TestClient:
    return client  # the app of conftest's engine, with every dialect's timers


def order(**extra: str) -> dict[str, str]:
    base = {"request": "preauthorization", "clearingtype": "fnc", "financingtype": "KIV", "amount": "5000",
            "currency": "EUR", "lastname": "Approved", "country": "DE", "successurl": f"{SHOP}/s",
            "errorurl": f"{SHOP}/e", "backurl": f"{SHOP}/b"}  # fmt: skip
    return {**base, **shopware_common(), **extra}


def session(api: TestClient, financingtype: str = "KIS", **extra: str) -> dict[str, str]:
    form = {"request": "genericpayment", "clearingtype": "fnc", "financingtype": financingtype,
            "add_paydata[action]": "start_session", "amount": "0", "currency": "EUR", "country": "DE",
            "lastname": "Approved", **shopware_common(), **extra}  # fmt: skip
    return post(api, form)


def back(api: TestClient, answer: dict[str, str]) -> str:
    r = api.get(answer["redirecturl"], follow_redirects=False)
    assert r.status_code == 303
    return str(r.headers["location"])


@pytest.mark.parametrize(
    ("financingtype", "identifier", "name"),
    [("KIS", "pay_over_time", "Slice it."), ("KIV", "pay_later", "Pay later."),
     ("KDD", "direct_debit", "Pay now."), ("KBT", "direct_bank_transfer", "Pay now.")],
)  # fmt: skip
def test_each_financingtype_has_its_klarna_category(api: TestClient, financingtype: str, identifier: str,
                                                    name: str) -> None:  # fmt: skip
    answer = session(api, financingtype, amount="4200")
    assert answer["add_paydata[payment_method_category_identifier]"] == identifier
    assert answer["add_paydata[payment_method_category_name]"] == name


def test_the_age_check_sends_a_minor_to_the_failure_url(api: TestClient, kasse: Kasse) -> None:
    today = kasse.merchant_now(merchant_id=SANDBOX.id).date()
    seventeen = (today - timedelta(days=17 * 365 + 10)).strftime("%Y%m%d")
    young = post(api, order(birthday=seventeen, **{"add_paydata[minimum_age]": "18",
                 "add_paydata[redirect_url_after_age_verification_failure]": f"{SHOP}/too-young"}))  # fmt: skip
    assert young["status"] == "REDIRECT" and back(api, young) == f"{SHOP}/too-young"
    assert payment_of(kasse, young["txid"]).failure_code == "age_verification_failed"
    no_url = post(api, order(birthday=seventeen, **{"add_paydata[minimum_age]": "18"}))
    assert back(api, no_url) == f"{SHOP}/e"  # "Error-URL will be used if this URL was not transmitted"
    adult = post(api, order(birthday="19600707", **{"add_paydata[minimum_age]": "18"}))
    assert back(api, adult) == f"{SHOP}/s" and payment_of(kasse, adult["txid"]).status == "authorized"
    check(kasse)


def test_a_denied_test_person_without_a_session_goes_to_the_error_url(api: TestClient, kasse: Kasse) -> None:
    denied = post(api, order(lastname="Denied", email="customer+de+denied@klarna.com"))
    assert denied["status"] == "REDIRECT" and back(api, denied) == f"{SHOP}/e"
    assert payment_of(kasse, denied["txid"]).status == "failed"
    check(kasse)


def test_update_session_may_lower_the_reservation_but_never_raise_it(api: TestClient, kasse: Kasse) -> None:
    started = session(api, "KIV", amount="5000")
    token = approve_in_sandbox(api, started["add_paydata[client_token]"])["authorization_token"]
    reserved = post(api, order(workorderid=started["workorderid"], **{"add_paydata[authorization_token]": token}))
    update = {"request": "genericpayment", "clearingtype": "fnc", "financingtype": "KIV", "currency": "EUR",
              "country": "DE", "amount": "0", "add_paydata[action]": "update_session",
              "workorderid": started["workorderid"], "add_paydata[reservation_txid]": reserved["txid"],
              "it[1]": "goods", "pr[1]": "2600", "no[1]": "2", **shopware_common()}  # fmt: skip
    higher = post(api, update)
    assert higher["status"] == "ERROR" and higher["errorcode"] == "913"
    assert post(api, {**update, "no[1]": "1"})["status"] == "APPROVED"  # 26.00 EUR of 50.00
    capture = {"request": "capture", "txid": reserved["txid"], "currency": "EUR", **shopware_common()}
    assert post(api, {**capture, "amount": "2700"})["status"] == "ERROR"  # beyond the lowered total
    assert post(api, {**capture, "amount": "2600", "capturemode": "completed"})["status"] == "APPROVED"
    done = post(api, {**update, "no[1]": "1"})
    assert done["status"] == "ERROR" and done["errorcode"] == "905"  # fully captured: no more updates
    check(kasse)


def test_a_debit_before_any_capture_is_refused(api: TestClient, kasse: Kasse) -> None:
    reserved = post(api, order())
    debit = {"request": "debit", "txid": reserved["txid"], "amount": "-100", "currency": "EUR",
             "sequencenumber": "1", **shopware_common()}  # fmt: skip
    answer = post(api, debit)
    assert answer["status"] == "ERROR" and answer["errorcode"] == "905"
    assert post(api, {**debit, "amount": "100"})["status"] == "ERROR"  # a positive debit charges: not offered
    assert post(api, {**debit, "currency": "CHF"})["status"] == "ERROR"
    assert post(api, {**debit, "txid": "999999999"})["status"] == "ERROR"


def test_iso_8859_1_bodies_and_multipart_forms(api: TestClient, kasse: Kasse) -> None:
    form = {**order(request="authorization", lastname="Müller"), "encoding": "ISO-8859-1"}
    body = "&".join(f"{k}={v}" for k, v in form.items()).replace("[", "%5B").replace("]", "%5D")
    r = api.post(GATEWAY, content=body.encode("latin-1"),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    answer = lines(r.text)
    assert answer["status"] == "REDIRECT"
    assert payment_of(kasse, answer["txid"]).customer["lastname"] == "Müller"
    bad = api.post(GATEWAY, content=b"lastname=M\xfcller&mode=test",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert lines(bad.text)["status"] == "ERROR"  # not UTF-8 and no encoding=ISO-8859-1
    multipart = api.post(GATEWAY, files={k: (None, v) for k, v in order(reference="MP-1").items()})
    assert lines(multipart.text)["status"] == "REDIRECT"
    check(kasse)


def test_plain_key_and_unknown_request(api: TestClient) -> None:
    plain = {**creds(SANDBOX.payone_key), "mode": "test"}
    answer = post(api, {**order(), **plain})
    assert answer["status"] == "REDIRECT"
    other = post(api, {**plain, "request": "creditcardcheck"})
    assert other["status"] == "ERROR" and other["errorcode"] == "1202"


def test_shopwares_test_credentials_call_starts_a_session(api: TestClient) -> None:
    """Shopware 6's "test API credentials" call: no customer at all (clients.md §4.4)."""
    form = {"request": "genericpayment", "clearingtype": "fnc", "financingtype": "KIV",
            "add_paydata[action]": "start_session", "amount": "100", "country": "DE", "currency": "EUR",
            "it[1]": "goods", "id[1]": "5013210425384", "pr[1]": "100", "de[1]": "Test product", "no[1]": "1",
            **shopware_common()}  # fmt: skip
    assert post(api, form, json=True)["Status"] == "APPROVED"


@pytest.mark.parametrize(
    "bad",
    [{"mode": "live"}, {"request": "preauthorization", "clearingtype": "sb"}, {"amount": "3000000000"},
     {"add_paydata[shopping_cart_type]": "DIGITAL"}, {"request": "authorization", "add_paydata[over_capture]": "yes"}],
)  # fmt: skip
def test_error_values_read_alike_in_every_client(api: TestClient, bad: dict[str, str]) -> None:
    """woocommerce-3 cuts a value at a second "=", commercetools URL-decodes values: neither may matter."""
    r = api.post(GATEWAY, data={**order(), **bad})
    answer = lines(r.text)
    assert answer["status"] == "ERROR"
    for value in answer.values():
        assert not set(value) & set("=+%"), value


MALFORMED_CAPTURE = [
    ("txid", "12345678"), ("txid", "1234567890123"), ("amount", "1.5"), ("amount", ""), ("capturemode", "done"),
    ("sequencenumber", "x"), ("sequencenumber", "1000"), ("currency", "eur"), ("settleaccount", "maybe"),
    ("narrative_text", "n" * 82),
]  # fmt: skip


@pytest.mark.parametrize(("name", "value"), MALFORMED_CAPTURE, ids=[f"{n}={v[:10]}" for n, v in MALFORMED_CAPTURE])
def test_malformed_capture_fields_store_nothing(api: TestClient, kasse: Kasse, name: str, value: str) -> None:
    from tests.helpers import dump

    reserved = post(api, order())
    capture = {"request": "capture", "txid": reserved["txid"], "amount": "1000", "currency": "EUR",
               "capturemode": "completed", **shopware_common(), name: value}  # fmt: skip
    before = dump(kasse)
    answer = post(api, capture)
    assert answer["status"] == "ERROR" and answer["errorcode"].isdigit()
    assert dump(kasse) == before
