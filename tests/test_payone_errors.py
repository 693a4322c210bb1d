"""Every malformed field is answered ``status=ERROR`` with a numeric ``errorcode``, an ``errormessage``
naming the parameter and a ``customermessage`` in the request's language — and nothing is stored. Wrong
credentials, ``mode=live``, the 48-hour session expiry on the merchant's clock, and the merchant setting
for the TransactionStatus URL. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kasse.engine.unit import Kasse
from tests.conftest import AUTH
from tests.helpers import dump
from tests.payone_helpers import (
    MD5,
    advance,
    approve_in_sandbox,
    creds,
    klarna_session,
    post,
    pretix_common,
    set_status_url,
    sofort_order,
)

SHOP = "http://shop.example"
HOUR_S = 3600


@pytest.fixture
def api(client: TestClient) -> TestClient:
    return client  # the app of conftest's engine, with every dialect's timers


def session_form(**extra: str) -> dict[str, str]:
    return {**klarna_session(), **creds(), "mode": "test", **extra}


def preauth_form(**extra: str) -> dict[str, str]:
    base = {"request": "preauthorization", "clearingtype": "fnc", "financingtype": "KIV", "amount": "1000",
            "currency": "EUR", "lastname": "Approved", "country": "DE", "reference": "R-1",
            "successurl": f"{SHOP}/s", "errorurl": f"{SHOP}/e", "backurl": f"{SHOP}/b"}  # fmt: skip
    return {**base, **creds(), "mode": "test", **extra}


MALFORMED_SESSION = [
    ("mid", "1234"), ("aid", "1000A"), ("portalid", "200000"), ("lastname", "X"), ("lastname", "L" * 51),
    ("country", "Germany"), ("country", "de"), ("email", "no-at-sign"), ("email", "a@" + "b" * 250 + ".de"),
    ("birthday", "19601307"), ("birthday", "1960-07-07"), ("currency", "EURO"), ("financingtype", "KXX"),
    ("amount", "12.50"), ("amount", "2000000000"), ("language", "deu"), ("zip", "1"), ("gender", "x"),
    ("it[1]", "gift"), ("pr[1]", "ten"), ("no[1]", "1234567"), ("va[1]", "19000"), ("de[1]", "d" * 256),
    ("id[1]", "i" * 33), ("it[2]", "goods"), ("it[401]", "goods"), ("add_paydata[action]", "begin"),
    ("narrative_text", "n" * 82), ("request", "dance"), ("mode", "prod"), ("clearingtype", "cc"),
    ("country", "ZZ"), ("currency", "USD"), ("telephonenumber", "1" * 31), ("personalid", "12 34"),
]  # fmt: skip

MALFORMED_PREAUTH = [
    ("successurl", "x"), ("errorurl", "no scheme here"), ("backurl", "1http://shop.example/b"),
    ("successurl", "http://shop.example/" + "p" * 250), ("reference", "with space"), ("reference", "r" * 21),
    ("amount", "0"), ("amount", "-100"), ("sequencenumber", "128"), ("userid", "12345"), ("customerid", "a b"),
    ("add_paydata[over_capture]", "maybe"), ("add_paydata[minimum_age]", "eighteen"),
    ("add_paydata[shopping_cart_type]", "DIGITAL"), ("workorderid", "WX-1"),
    ("add_paydata[authorization_token]", "bad token!"), ("lastname", ""),
]  # fmt: skip


def assert_refused(api: TestClient, kasse: Kasse, form: dict[str, str], language: str = "en") -> dict[str, str]:
    before = dump(kasse)
    answer = post(api, {"language": language, **form})
    assert answer["status"] == "ERROR", answer
    assert answer["errorcode"].isdigit() and answer["errormessage"] and answer["customermessage"]
    assert dump(kasse) == before, "a refused request stored something"
    return answer


@pytest.mark.parametrize(("name", "value"), MALFORMED_SESSION, ids=[f"{n}={v[:12]}" for n, v in MALFORMED_SESSION])
def test_malformed_session_fields_are_refused(api: TestClient, kasse: Kasse, name: str, value: str) -> None:
    answer = assert_refused(api, kasse, session_form(**{name: value}))
    assert "{" in answer["errormessage"]  # "Parameter {name} faulty or missing"


@pytest.mark.parametrize(("name", "value"), MALFORMED_PREAUTH, ids=[f"{n}={v[:12]}" for n, v in MALFORMED_PREAUTH])
def test_malformed_preauthorization_fields_are_refused(api: TestClient, kasse: Kasse, name: str, value: str) -> None:
    assert_refused(api, kasse, preauth_form(**{name: value}))


def test_the_customer_message_is_in_the_requests_language(api: TestClient, kasse: Kasse) -> None:
    german = assert_refused(api, kasse, session_form(lastname="X"), language="de")
    assert german["customermessage"].startswith("Bei der Bearbeitung dieser Transaktion")
    english = assert_refused(api, kasse, session_form(lastname="X"), language="en")
    assert english["customermessage"] == "An error occured while processing this transaction (wrong parameters)."
    assert german["errorcode"] == english["errorcode"]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("mid", "10002", "1203"), ("portalid", "2999999", "1205"), ("key", "wrong", "1206"),
     ("key", MD5.upper()[:-1] + "0", "1206"), ("aid", "10009", "1204"), ("mode", "live", "1207")],
)  # fmt: skip
def test_wrong_credentials_are_refused(api: TestClient, kasse: Kasse, field: str, value: str, code: str) -> None:
    answer = assert_refused(api, kasse, session_form(**{field: value}))
    assert answer["errorcode"] == code


def test_missing_request_and_mid_give_payones_codes(api: TestClient, kasse: Kasse) -> None:
    empty = post(api, {"mode": "test"}, json=True)
    assert empty["Status"] == "ERROR" and empty["Error"]["ErrorCode"] == "1203"
    no_request = post(api, {**creds(), "mode": "test"})
    assert no_request["errorcode"] == "1202" and no_request["errormessage"].startswith("Parameter {request}")


def test_a_digital_cart_needs_an_email(api: TestClient, kasse: Kasse) -> None:
    assert_refused(api, kasse, preauth_form(**{"add_paydata[shopping_cart_type]": "DIGITAL"}))
    ok = post(api, preauth_form(**{"add_paydata[shopping_cart_type]": "DIGITAL", "email": "kunde@example.com"}))
    assert ok["status"] == "REDIRECT"


def test_sofort_refuses_preauthorization_and_unknown_bank_countries(api: TestClient, kasse: Kasse) -> None:
    assert_refused(api, kasse, {**sofort_order(SHOP, request="preauthorization"), **pretix_common()})
    assert_refused(api, kasse, {**sofort_order(SHOP, bankcountry="FR"), **pretix_common()})


# --- the session's 48 hours --------------------------------------------------------------------------


def test_a_session_expires_48_hours_after_its_last_update(api: TestClient, kasse: Kasse) -> None:
    session = post(api, session_form())
    update = session_form(**{"add_paydata[action]": "update_session", "workorderid": session["workorderid"],
                             "add_paydata[session_id]": session["add_paydata[session_id]"]})  # fmt: skip
    advance(api, 47 * HOUR_S)
    assert post(api, update)["status"] == "APPROVED"  # the update starts the 48 hours again
    advance(api, 47 * HOUR_S)
    token = session["add_paydata[client_token]"]
    assert approve_in_sandbox(api, token)["approved"] is True  # 94 hours after the start, 47 after the update
    advance(api, 2 * HOUR_S)
    with kasse.read() as store:
        stored = store.get_payone_session(merchant_id="mer_sandbox", workorderid=session["workorderid"])
    assert stored is not None and stored.status == "expired"  # the timer fired on the merchant's clock
    expired = post(api, update)
    assert expired["status"] == "ERROR" and expired["errorcode"] == "101"
    r = api.post("/_sandbox/klarna/authorize", json={"client_token": token, "approve": True}, headers=AUTH)
    assert r.status_code == 400


def test_a_denied_test_person_is_not_approved_in_the_widget(api: TestClient) -> None:
    session = post(api, session_form(lastname="Denied", email="customer+de+denied@klarna.com"))
    answer = approve_in_sandbox(api, session["add_paydata[client_token]"])
    assert answer == {"approved": False, "show_form": False}
    closed = approve_in_sandbox(api, post(api, session_form())["add_paydata[client_token]"], approve=False)
    assert closed == {"approved": False, "show_form": True}


def test_a_token_is_used_once_and_only_with_its_session(api: TestClient, kasse: Kasse) -> None:
    session = post(api, session_form())
    token = approve_in_sandbox(api, session["add_paydata[client_token]"])["authorization_token"]
    other = post(api, session_form())["workorderid"]
    assert_refused(api, kasse, preauth_form(workorderid=other, **{"add_paydata[authorization_token]": token}))
    form = preauth_form(workorderid=session["workorderid"], **{"add_paydata[authorization_token]": token})
    assert post(api, form)["status"] == "REDIRECT"
    assert post(api, form)["status"] == "ERROR"


def test_the_sandbox_authorize_needs_the_secret_key(api: TestClient) -> None:
    token = post(api, session_form())["add_paydata[client_token]"]
    r = api.post("/_sandbox/klarna/authorize", json={"client_token": token, "approve": True})
    assert r.status_code == 401


# --- the merchant's TransactionStatus URL --------------------------------------------------------------


def test_the_status_url_is_set_checked_and_removed(api: TestClient) -> None:
    r = set_status_url(api, "https://shop.example/payone/status")
    assert r.status_code == 200 and r.json()["payone"] == {
        "transaction_status_url": "https://shop.example/payone/status"
    }
    assert api.get("/api/v1/merchant", headers=AUTH).json()["payone"]["transaction_status_url"].startswith("https:")
    bad = set_status_url(api, "ftp://shop.example/status")
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "payone.transaction_status_url"
    unknown = api.patch("/api/v1/merchant", json={"payone": {"colour": "red"}}, headers=AUTH)
    assert unknown.status_code == 400
    assert api.patch("/api/v1/merchant", json={"stripe": {"x": 1}}, headers=AUTH).status_code == 400
    assert set_status_url(api, None).json()["payone"] == {}
