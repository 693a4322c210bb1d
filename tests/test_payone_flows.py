"""PAYONE end to end against a live Kasse: the Klarna widget in real Chromium on a shop page served by
the test (a Playwright route; every other non-loopback request is aborted), Sofort through the bank page
and back to the shop's URLs, and TransactionStatus POSTs received by a loopback receiver — acknowledged
with ``TSOK``, sent again otherwise. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route

from kasse.storage.db import Database
from tests.conftest import AUTH, LiveServer
from tests.helpers import check
from tests.msp_helpers import Receiver, act_on_bank_page, wait_until
from tests.payone_helpers import (
    DAY_S,
    PORTAL_KEY,
    advance,
    creds,
    klarna_session,
    post,
    pretix_common,
    set_status_url,
    shopware_common,
    sofort_order,
)
from tests.test_browser import shop_url as _shop_url

pytestmark = pytest.mark.browser
shop_url = _shop_url  # the shop's return pages: a real server on loopback (Playwright does not route the
# request a redirect leads to, so the shop's return URLs must answer for real)
# The shop is answered by a Playwright route (never connected to); a non-secure public origin could
# not load scripts from a Kasse on loopback at all (Chromium's Private Network Access).
SHOP = "http://localhost:47999"

CHECKOUT = """<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Checkout</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;margin:24px"><h1>Checkout</h1>
<div id="klarna"></div><p><button id="pay" type="button">Jetzt kaufen</button></p>
<pre id="loaded"></pre><pre id="result"></pre>
<script src="KASSE/klarna/kp/lib/v1/api.js"></script>
<script>
  Klarna.Payments.init({client_token: "TOKEN"});
  Klarna.Payments.load({container: "#klarna", payment_method_category: "pay_later"}, {}, function (r) {
    document.getElementById("loaded").textContent = JSON.stringify(r);
  });
  document.getElementById("pay").addEventListener("click", function () {
    Klarna.Payments.authorize({payment_method_category: "pay_later"}, {}, function (r) {
      document.getElementById("result").textContent = JSON.stringify(r);
    });
  });
</script></body></html>"""


@pytest.fixture
def server(database: Database) -> Iterator[LiveServer]:
    from tests.live import live_kasse

    with live_kasse(database) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from Receiver(answer="TSOK").start()


def shop_routes(page: Page, server: LiveServer, token: str = "") -> list[str]:
    """The checkout page (``localhost:47999``) is answered by the test; loopback (Kasse, the shop's return
    pages) goes through; anything else is aborted."""
    visited: list[str] = []

    def handle(route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.netloc == "localhost:47999":
            visited.append(url)
            html = CHECKOUT.replace("KASSE", server.url).replace("TOKEN", token) if "/checkout" in url else (
                "<!doctype html><title>Shop</title><h1>Back at the shop</h1>")  # fmt: skip
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        elif parts.hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    page.route("**/*", handle)
    return visited


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="de-DE", viewport={"width": 1100, "height": 900})
    # A page answered by a route has no address, so Chromium counts the shop as public and asks the
    # customer before it may call Kasse on loopback (Local Network Access): the customer allows it.
    context.grant_permissions(["local-network-access"])
    yield context.new_page()
    context.close()


def klarna_in_browser(page: Page, server: LiveServer, token: str, action: str) -> dict[str, object]:
    shop_routes(page, server, token)
    page.goto(f"{SHOP}/checkout")
    page.get_by_test_id("klarna-widget").wait_for()
    assert json.loads(page.locator("#loaded").inner_text()) == {"show_form": True}
    assert page.get_by_test_id("klarna-category").inner_text() == "Pay later."
    page.locator("#pay").click()
    page.get_by_test_id("klarna-dialog").wait_for()
    assert page.get_by_test_id("klarna-amount").inner_text() == "1,00\u00a0EUR"
    page.get_by_test_id(action).click()
    page.wait_for_function("document.getElementById('result').textContent.length > 0")
    result: dict[str, object] = json.loads(page.locator("#result").inner_text())
    assert page.get_by_test_id("klarna-dialog").count() == 0
    return result


def test_klarna_widget_in_chromium_then_preauthorization_and_back_at_the_shop(
    server: LiveServer, api: httpx.Client, page: Page, shop_url: str
) -> None:
    session = post(api, {**klarna_session(), **shopware_common()}, json=True)
    token = session["AddPayData"]["client_token"]
    result = klarna_in_browser(page, server, token, "approve")
    assert result["approved"] is True and result["show_form"] is True
    preauth = {"request": "preauthorization", "clearingtype": "fnc", "financingtype": "KIV", "amount": "100",
               "currency": "EUR", "lastname": "Approved", "country": "DE", "reference": "SW-1",
               "workorderid": session["WorkOrderId"],
               "add_paydata[authorization_token]": str(result["authorization_token"]),
               "successurl": f"{shop_url}/s", "errorurl": f"{shop_url}/e", "backurl": f"{shop_url}/b",
               **shopware_common()}  # fmt: skip
    answer = post(api, preauth, json=True)
    assert answer["Status"] == "REDIRECT"
    page.goto(answer["RedirectUrl"])
    page.wait_for_url(f"{shop_url}/s")
    assert page.locator("h1").inner_text() == "Back at the shop"


def test_klarna_widget_decline_gives_no_token(server: LiveServer, api: httpx.Client, page: Page) -> None:
    session = post(api, {**klarna_session(), **pretix_common()}, json=True)
    result = klarna_in_browser(page, server, session["AddPayData"]["client_token"], "decline")
    assert result == {"approved": False, "show_form": True}


@pytest.mark.parametrize(("action", "back"), [("approve", "/s"), ("decline", "/e"), ("cancel", "/b")])
def test_sofort_through_the_bank_page_back_to_the_shops_url(
    server: LiveServer, api: httpx.Client, page: Page, shop_url: str, action: str, back: str
) -> None:
    visited = shop_routes(page, server)
    answer = post(api, {**sofort_order(shop_url), **pretix_common()}, json=True)
    page.goto(answer["RedirectUrl"])
    assert page.get_by_test_id("amount").inner_text() == "10,00 €"
    page.get_by_test_id(action).click()
    page.wait_for_url(f"{shop_url}{back}")
    assert page.locator("h1").inner_text() == "Back at the shop"
    assert visited == []  # nothing went to the network beyond loopback


# --- TxStatus -------------------------------------------------------------------------------------------


def statuses(receiver: Receiver) -> list[dict[str, str]]:
    """Every TxStatus received, checked as pretix-payone checks it (``key`` = md5 of the portal key)."""
    out = []
    for got in receiver.received:
        assert got.method == "POST" and got.headers["Content-Type"] == "application/x-www-form-urlencoded"
        fields = dict(parse_qsl(got.body, keep_blank_values=True))
        assert fields["key"] == hashlib.md5(PORTAL_KEY.encode()).hexdigest()
        assert (
            fields["mode"] == "test" and fields["portalid"] == creds()["portalid"] and fields["aid"] == creds()["aid"]
        )
        out.append(fields)
    return out


def test_sofort_txstatus_appointed_then_paid_acknowledged_with_tsok(
    server: LiveServer, api: httpx.Client, receiver: Receiver
) -> None:
    assert set_status_url(api, receiver.url).status_code == 200
    answer = post(api, {**sofort_order(SHOP), **pretix_common()}, json=True)
    act_on_bank_page(answer["RedirectUrl"])
    wait_until(lambda: len(receiver.received) == 1)
    advance(api, 2 * DAY_S)
    wait_until(lambda: len(receiver.received) == 2)
    appointed, paid = statuses(receiver)
    assert [appointed["txaction"], paid["txaction"]] == ["appointed", "paid"]
    for fields in (appointed, paid):
        assert fields["txid"] == answer["TxId"] and fields["userid"] == answer["UserId"]
        assert fields["clearingtype"] == "sb" and fields["currency"] == "EUR" and fields["price"] == "10.00"
        assert fields["reference"] == "ABC12-P-1_Event" and fields["param"] == "event-ABC12-P-1"
        assert fields["sequencenumber"] == "0" and fields["txtime"].isdigit()
    assert (appointed["receivable"], appointed["balance"]) == ("10.00", "10.00")
    assert (paid["receivable"], paid["balance"]) == ("10.00", "0.00")
    advance(api, DAY_S)
    assert len(receiver.received) == 2  # acknowledged: never sent again


def test_klarna_txstatus_for_capture_and_debit(server: LiveServer, api: httpx.Client, receiver: Receiver) -> None:
    set_status_url(api, receiver.url)
    preauth = {"request": "preauthorization", "clearingtype": "fnc", "financingtype": "KDD", "amount": "5000",
               "currency": "EUR", "lastname": "Approved", "country": "DE", "reference": "K-1",
               "successurl": f"{SHOP}/s", "errorurl": f"{SHOP}/e", "backurl": f"{SHOP}/b",
               **shopware_common()}  # fmt: skip
    txid = post(api, preauth)["txid"]
    capture = {"request": "capture", "txid": txid, "amount": "3000", "currency": "EUR",
               "capturemode": "notcompleted", "sequencenumber": "1", **shopware_common()}  # fmt: skip
    assert post(api, capture)["status"] == "APPROVED"
    advance(api, DAY_S)
    debit = {"request": "debit", "txid": txid, "amount": "-1000", "currency": "EUR", "sequencenumber": "2",
             **shopware_common()}  # fmt: skip
    assert post(api, debit)["status"] == "APPROVED"
    wait_until(lambda: len(receiver.received) == 4)
    got = statuses(receiver)
    assert [f["txaction"] for f in got] == ["appointed", "capture", "paid", "debit"]
    assert [f["sequencenumber"] for f in got] == ["0", "1", "1", "2"]
    assert [(f["receivable"], f["balance"]) for f in got] == [
        ("0.00", "0.00"), ("30.00", "30.00"), ("30.00", "0.00"), ("20.00", "0.00")
    ]  # fmt: skip
    assert all(f["clearingtype"] == "fnc" and f["financingtype"] == "KDD" for f in got)
    check(server.server.config.app.state.kasse)  # the ledger balances


def test_txstatus_without_tsok_is_sent_again(server: LiveServer, api: httpx.Client, receiver: Receiver) -> None:
    receiver.answer = "TSNOTOK"
    set_status_url(api, receiver.url)
    preauth = {"request": "preauthorization", "clearingtype": "fnc", "financingtype": "KIS", "amount": "1000",
               "currency": "EUR", "lastname": "Approved", "country": "DE",
               "successurl": f"{SHOP}/s", "errorurl": f"{SHOP}/e", "backurl": f"{SHOP}/b",
               **pretix_common()}  # fmt: skip
    post(api, preauth)
    wait_until(lambda: len(receiver.received) == 1)
    advance(api, 50)
    assert len(receiver.received) == 1
    advance(api, 10)  # one minute: the first retry
    wait_until(lambda: len(receiver.received) == 2)
    receiver.answer = "TSOK"
    advance(api, 300)
    wait_until(lambda: len(receiver.received) == 3)
    advance(api, DAY_S)
    assert len(receiver.received) == 3  # acknowledged at the third attempt
    assert {f["txaction"] for f in statuses(receiver)} == {"appointed"}


def test_no_status_url_no_txstatus(server: LiveServer, api: httpx.Client, receiver: Receiver) -> None:
    answer = post(api, {**sofort_order(SHOP), **pretix_common()}, json=True)
    act_on_bank_page(answer["RedirectUrl"])
    advance(api, 2 * DAY_S)
    assert receiver.received == []
    events = api.get("/api/v1/events", params={"limit": 100}, headers=AUTH).json()["data"]
    assert not [e for e in events if e["type"].startswith("payone:")]
