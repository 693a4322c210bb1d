"""PAYONE's Server API: the seed's literal payloads (credentials substituted) give the seed's answers;
pretix-payone's and Shopware's parameter sets with md5, sha384 and plain keys, key=value and JSON answers;
Klarna sessions, reservations, captures and debits; the ledger balanced after each flow. SQLite and
PostgreSQL."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kasse.engine.unit import Kasse
from tests.helpers import check
from tests.payone_helpers import (
    MD5,
    PORTAL_KEY,
    SHA384,
    approve_in_sandbox,
    creds,
    klarna_session,
    payment_of,
    post,
    pretix_common,
    seed_payload,
    shopware_common,
    sofort_order,
)

SHOP = "http://shop.example"

SEED_START = """request=genericpayment aid=12345 mid=23456 portalid=12345123 key=abcdefghijklmn123456789 mode=test
add_paydata[action]=start_session clearingtype=fnc financingtype=KIS amount=3000 currency=EUR lastname=Approved
firstname=Testperson-de salutation=Herr country=DE language=de gender=m birthday=19600707
street=Hellersbergstraße 14 city=Musterstadt zip=12345 email=test@payone.com telephonenumber=01512345678
de[1]=for the feet id[1]=socks1 it[1]=goods no[1]=1 pr[1]=2340 va[1]=1900"""

SEED_PREAUTH = """mid=23456 portalid=12345123 key=abcdefghijklmn123456789 api_version=3.11 mode=test
request=preauthorization encoding=UTF-8 aid=12345 reference=Ref123456 amount=300 currency=EUR lastname=Mustermann
country=DE clearingtype=fnc financingtype=KIS successurl=http://www.yourdomain.url
errorurl=http://www.yourdomain.url backurl=http://www.yourdomain.url"""

SEED_CAPTURE = """mid=23456 portalid=12345123 key=abcdefghijklmn123456789 api_version=3.10 mode=test request=capture
encoding=UTF-8 txid=345678901 amount=300 currency=EUR"""

SEED_DEBIT = """mid=23456 portalid=12345123 key=abcdefghijklmn123456789 api_version=3.10 mode=test request=debit
encoding=UTF-8 txid=345678901 sequencenumber=1 amount=-1000 currency=EUR"""

SEED_UPDATE = """add_paydata[action]=update_session add_paydata[reservation_txid]=TXID add_paydata[session_id]=SID
request=genericpayment aid=54400 mid=54399 portalid=2039743 key=17031f73e2c6f9755788bddfff04169b mode=test
workorderid=WOID clearingtype=fnc financingtype=KIS amount=3000 currency=EUR country=DE narrative_text=sometext
de[1]=for the feet id[1]=socks1 it[1]=goods no[1]=1 pr[1]=2340 va[1]=1900"""

SEED_CANCEL = """add_paydata[action]=cancel_authorization add_paydata[authorization_token]=TOKEN
request=genericpayment aid=54400 mid=54399 portalid=2039743 key=17031f73e2c6f9755788bddfff04169b mode=test"""


@pytest.fixture
def api(client: TestClient) -> TestClient:
    return client  # the app of conftest's engine, with every dialect's timers


def start(api: TestClient, **extra: str) -> dict[str, str]:
    answer = post(api, {**seed_payload(SEED_START), **extra})
    assert answer["status"] == "APPROVED", answer
    return answer


def reserve(api: TestClient, request: str = "preauthorization", **extra: str) -> dict[str, str]:
    """A Klarna reservation through the widget's token (the seed's three steps)."""
    session = start(api)
    token = approve_in_sandbox(api, session["add_paydata[client_token]"])["authorization_token"]
    form = {**seed_payload(SEED_PREAUTH), "request": request, "amount": "2340", "workorderid": session["workorderid"],
            "add_paydata[authorization_token]": token, **extra}  # fmt: skip
    answer = post(api, form)
    assert answer["status"] == "REDIRECT", answer
    return {**answer, "workorderid": session["workorderid"], "session_id": session["add_paydata[session_id]"],
            "token": token}  # fmt: skip


# --- the seed's payloads ------------------------------------------------------------------------------


def test_seed_start_session_answers_like_the_seed(api: TestClient, kasse: Kasse) -> None:
    answer = start(api)
    assert set(answer) == {
        "status", "workorderid", "add_paydata[client_token]", "add_paydata[session_id]",
        "add_paydata[payment_method_category_identifier]", "add_paydata[payment_method_category_name]",
        "add_paydata[payment_method_category_asset_url_descriptive]",
        "add_paydata[payment_method_category_asset_url_standard]",
    }  # fmt: skip
    assert answer["add_paydata[payment_method_category_identifier]"] == "pay_over_time"
    assert answer["add_paydata[payment_method_category_name]"] == "Slice it."
    assert re.fullmatch(r"WX[A-Z0-9]{14}", answer["workorderid"])
    assert re.fullmatch(r"[0-9a-f-]{36}", answer["add_paydata[session_id]"])
    assert answer["add_paydata[client_token]"].count(".") == 2
    assert answer["add_paydata[payment_method_category_asset_url_standard]"].startswith("http://")


def test_seed_preauthorization_redirects_back_to_the_shop_without_action(api: TestClient, kasse: Kasse) -> None:
    answer = post(api, seed_payload(SEED_PREAUTH))
    assert answer["status"] == "REDIRECT"
    assert re.fullmatch(r"\d{9,12}", answer["txid"]) and re.fullmatch(r"\d{6,12}", answer["userid"])
    back = api.get(answer["redirecturl"], follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "http://www.yourdomain.url"
    assert payment_of(kasse, answer["txid"]).status == "authorized"
    check(kasse)


def test_seed_capture_and_debit_answer_like_the_seed(api: TestClient, kasse: Kasse) -> None:
    reserved = post(api, seed_payload(SEED_PREAUTH))
    captured = post(api, {**seed_payload(SEED_CAPTURE), "txid": reserved["txid"]})
    assert captured == {"status": "APPROVED", "txid": reserved["txid"], "settleaccount": "no"}
    # The seed's debit (sequencenumber=1, -10.00 EUR) on a transaction whose first numbered step it is.
    paid = post(api, {**seed_payload(SEED_PREAUTH), "request": "authorization", "amount": "1000"})
    debited = post(api, {**seed_payload(SEED_DEBIT), "txid": paid["txid"]})
    assert debited == {"status": "APPROVED", "txid": paid["txid"], "settleaccount": "no"}
    check(kasse)


def test_seed_update_session_and_cancel_authorization(api: TestClient, kasse: Kasse) -> None:
    reserved = reserve(api)
    update = SEED_UPDATE.replace("TXID", reserved["txid"]).replace("SID", reserved["session_id"])
    answer = post(api, {**seed_payload(update.replace("WOID", reserved["workorderid"]))})
    assert answer == {
        "status": "APPROVED", "addresponsedata[reservation_txid]": reserved["txid"],
        "addresponsedata[authorized_payment_method]": "pay_over_time",
        "addresponsedata[workorderid]": reserved["workorderid"], "workorderid": reserved["workorderid"],
    }  # fmt: skip
    canceled = post(api, seed_payload(SEED_CANCEL.replace("TOKEN", reserved["token"])))
    assert canceled == {"status": "APPROVED", "workorderid": reserved["workorderid"]}
    assert payment_of(kasse, reserved["txid"]).status == "canceled"
    again = post(api, seed_payload(SEED_CANCEL.replace("TOKEN", reserved["token"])))
    assert again["status"] == "ERROR"
    check(kasse)


# --- the shop plugins' parameter sets -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("common", "json"),
    [
        (pretix_common(MD5), True),
        (shopware_common(SHA384), True),
        (shopware_common(SHA384), False),
        (pretix_common(PORTAL_KEY), False),
    ],
)
def test_sofort_in_each_plugins_dialect(api: TestClient, common: dict[str, str], json: bool) -> None:
    answer = post(api, {**sofort_order(SHOP), **common}, json=json)
    if json:
        assert set(answer) == {"Status", "RedirectUrl", "TxId", "UserId"} and answer["Status"] == "REDIRECT"
        url = answer["RedirectUrl"]
    else:
        assert answer["status"] == "REDIRECT" and answer["txid"].isdigit()
        url = answer["redirecturl"]
    assert "/pay/" in url  # Kasse's bank page


def test_shopware_klarna_session_in_json(api: TestClient) -> None:
    answer = post(api, {**klarna_session(), **shopware_common()}, json=True)
    assert answer["Status"] == "APPROVED" and answer["WorkOrderId"].startswith("WX")
    assert answer["AddPayData"]["payment_method_category_identifier"] == "pay_later"
    assert answer["AddPayData"]["client_token"] and answer["AddPayData"]["session_id"]


def test_pretix_refund_after_settlement(api: TestClient, kasse: Kasse) -> None:
    from tests.payone_helpers import advance

    paid = post(api, {**seed_payload(SEED_PREAUTH), "request": "authorization", "amount": "1000"})
    advance(api, 2 * 86_400)
    assert payment_of(kasse, paid["txid"]).status == "succeeded"
    refund = {"request": "refund", "txid": paid["txid"], "sequencenumber": 1, "amount": -500, "currency": "EUR",
              "narrative_text": "Refund", "transaction_param": "r-1"}  # fmt: skip
    assert post(api, {**refund, **pretix_common()}, json=True) == {"Status": "APPROVED", "TxId": paid["txid"],
                                                                   "SettleAccount": "no"}  # fmt: skip
    second = post(api, {**refund, "sequencenumber": 2, "amount": -600, **pretix_common()}, json=True)
    assert second["Status"] == "ERROR" and second["Error"]["ErrorCode"] == "913"  # more than is left
    third = post(api, {**refund, "sequencenumber": 2, "amount": -500, **pretix_common()}, json=True)
    assert third["Status"] == "APPROVED"
    check(kasse)


# --- captures ------------------------------------------------------------------------------------------


def capture(api: TestClient, txid: str, amount: int, **extra: object) -> dict[str, str]:
    form = {"request": "capture", "txid": txid, "amount": amount, "currency": "EUR", **creds(), "mode": "test"}
    return post(api, {**form, **{k: str(v) for k, v in extra.items()}})


def test_multi_capture_with_sequence_numbers(api: TestClient, kasse: Kasse) -> None:
    txid = reserve(api)["txid"]
    assert capture(api, txid, 1000, capturemode="notcompleted")["status"] == "APPROVED"  # 1st: number optional
    missing = capture(api, txid, 500, capturemode="notcompleted")
    assert missing["status"] == "ERROR" and "sequencenumber" in missing["errormessage"]
    wrong = capture(api, txid, 500, capturemode="notcompleted", sequencenumber=3)
    assert wrong["status"] == "ERROR" and "expected 2" in wrong["errormessage"]
    assert capture(api, txid, 500, capturemode="notcompleted", sequencenumber=2)["status"] == "APPROVED"
    too_much = capture(api, txid, 900, capturemode="completed", sequencenumber=3)
    assert too_much["status"] == "ERROR" and too_much["errorcode"] == "913"
    assert capture(api, txid, 840, capturemode="completed", sequencenumber=3)["status"] == "APPROVED"
    assert payment_of(kasse, txid).amount_captured_minor == 2340
    debit = {"request": "debit", "txid": txid, "amount": -340, "currency": "EUR", "sequencenumber": 4, **creds()}
    assert post(api, {**debit, "mode": "test"})["status"] == "APPROVED"
    check(kasse)


def test_over_capture_up_to_ten_percent(api: TestClient, kasse: Kasse) -> None:
    txid = reserve(api, **{"add_paydata[over_capture]": "yes"})["txid"]
    refused = capture(api, txid, 2575, capturemode="completed")  # 2340 + 10% = 2574
    assert refused["status"] == "ERROR" and refused["errorcode"] == "913"
    assert capture(api, txid, 2574, capturemode="completed")["status"] == "APPROVED"
    check(kasse)
    plain = reserve(api)["txid"]
    assert capture(api, plain, 2341)["status"] == "ERROR"


def test_a_capture_of_an_authorization_is_refused(api: TestClient) -> None:
    paid = reserve(api, request="authorization")
    answer = capture(api, paid["txid"], 100)
    assert answer["status"] == "ERROR" and answer["errorcode"] == "905"
