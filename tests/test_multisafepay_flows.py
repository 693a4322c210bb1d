"""MultiSafepay end to end: the customer in real Chromium (payment page, bank page, back at the shop),
signed notifications verified with the SDK's own ``Webhook.validate``, and retries of unacknowledged
ones on the merchant's clock. The key flows run on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page

from kasse.storage.db import Database
from tests.conftest import AUTH, LiveServer
from tests.msp_helpers import (
    API_KEY,
    DAY_S,
    OrderManager,
    Receiver,
    RefundOrderRequest,
    Webhook,
    act_on_bank_page,
    advance,
    live_kasse,
    order_request,
    orders,
    recorded_attempts,
    wait_until,
)
from tests.test_browser import shop_url as _shop_url

pytestmark = pytest.mark.browser
shop_url = _shop_url  # the shop's return page (a module-scoped fixture)


@pytest.fixture
def server(database: Database) -> Iterator[LiveServer]:
    with live_kasse(database) as live:
        yield live


@pytest.fixture
def om(server: LiveServer) -> OrderManager:
    return orders(server)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from Receiver().start()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="de-DE", viewport={"width": 1100, "height": 900})
    yield context.new_page()
    context.close()


def pay_in_browser(page: Page, payment_url: str, action: str = "approve") -> None:
    page.goto(payment_url)
    page.get_by_test_id("continue").click()  # MultiSafepay's payment page, then the bank
    page.get_by_test_id(action).click()


def verified(receiver: Receiver) -> list[dict[str, object]]:
    """Every notification received, checked as a shop checks it; the order bodies."""
    bodies = []
    for got in receiver.received:
        query = parse_qs(urlsplit(got.path).query)
        assert got.method == "POST" and "timestamp" in query
        assert Webhook.validate(request=got.body, auth=got.headers["Auth"], api_key=API_KEY) is True
        assert Webhook.validate(request=got.body, auth=got.headers["Auth"], api_key="another-key") is False
        body = json.loads(got.body)
        assert query["transactionid"] == [body["order_id"]]
        bodies.append(body)
    return bodies


def test_redirect_50_eur_approved_in_chromium_is_completed(
    server: LiveServer, om: OrderManager, page: Page, shop_url: str, receiver: Receiver
) -> None:
    created = om.create(order_request("web-50", 5000, shop=shop_url, notify=receiver.url)).get_data()
    page.goto(created.payment_url)
    assert page.get_by_test_id("amount").inner_text() == "50,00 €"
    page.get_by_test_id("continue").click()
    page.wait_for_url(re.compile(rf"^{re.escape(server.url)}/pay/"))
    page.get_by_test_id("approve").click()
    page.wait_for_url(f"{shop_url}/ok?shop=1&transactionid=web-50")
    assert page.locator("h1").inner_text() == "Back at the shop"
    order = om.get("web-50").get_data()
    assert (order.status, order.financial_status) == ("completed", "completed")
    wait_until(lambda: len(receiver.received) >= 1)
    assert [b["status"] for b in verified(receiver)] == ["completed"]  # one notification, not three
    transfers = httpx.get(f"{server.url}/api/v1/ledger/transfers", params={"limit": 100}, headers=AUTH).json()
    assert all(sum(leg["amount"] for leg in t["legs"]) == 0 for t in transfers["data"])


def test_redirect_150_eur_is_uncleared_then_completed_after_24_hours(
    server: LiveServer, om: OrderManager, page: Page, shop_url: str, receiver: Receiver
) -> None:
    created = om.create(order_request("web-150", 15_000, shop=shop_url, notify=receiver.url)).get_data()
    pay_in_browser(page, created.payment_url)
    page.wait_for_url(f"{shop_url}/ok?shop=1&transactionid=web-150")
    assert om.get("web-150").get_data().status == "uncleared"
    wait_until(lambda: recorded_attempts(server) == 1)
    advance(server, DAY_S)
    assert om.get("web-150").get_data().status == "completed"
    wait_until(lambda: len(receiver.received) >= 2)
    assert [b["status"] for b in verified(receiver)] == ["uncleared", "completed"]


def test_direct_order_goes_straight_to_the_bank(
    server: LiveServer, om: OrderManager, page: Page, shop_url: str
) -> None:
    created = om.create(order_request("web-direct", 2000, shop=shop_url, kind="direct")).get_data()
    page.goto(created.payment_url)
    assert page.get_by_test_id("continue").count() == 0
    page.get_by_test_id("approve").click()
    page.wait_for_url(f"{shop_url}/ok?shop=1&transactionid=web-direct")
    assert om.get("web-direct").get_data().status == "completed"


def test_cancel_at_the_bank_voids_and_returns_to_the_cancel_url(
    server: LiveServer, om: OrderManager, page: Page, shop_url: str, receiver: Receiver
) -> None:
    created = om.create(order_request("web-void", 1000, shop=shop_url, notify=receiver.url)).get_data()
    pay_in_browser(page, created.payment_url, "cancel")
    page.wait_for_url(f"{shop_url}/cancel?transactionid=web-void")
    assert om.get("web-void").get_data().status == "void"
    wait_until(lambda: len(receiver.received) >= 1)
    assert [b["status"] for b in verified(receiver)] == ["void"]


def test_notifications_of_refunds_and_expiry(server: LiveServer, om: OrderManager, receiver: Receiver) -> None:
    created = om.create(order_request("n-1", 3000, shop="http://shop.example", notify=receiver.url)).get_data()
    om.create(order_request("n-2", 3000, shop="http://shop.example", notify=receiver.url, days_active=1))
    act_on_bank_page(created.payment_url)
    wait_until(lambda: len(receiver.received) >= 1)
    om.refund("n-1", RefundOrderRequest().add_currency("EUR").add_amount(1000).add_description("part"))
    wait_until(lambda: recorded_attempts(server) == 2)
    advance(server, DAY_S)  # the refund completes after an hour, the unpaid order's page lives a day
    wait_until(lambda: len(receiver.received) >= 4)
    seen = [(b["order_id"], b["status"], b["amount_refunded"]) for b in verified(receiver)]
    assert seen == [
        ("n-1", "completed", 0),
        ("n-1", "partial_refunded", 1000),
        ("n-1", "partial_refunded", 1000),
        ("n-2", "expired", 0),
    ]
    events = httpx.get(f"{server.url}/api/v1/events", params={"limit": 100}, headers=AUTH).json()["data"]
    notices = [e for e in events if e["type"].startswith("multisafepay:order.we_")]
    assert sorted(e["data"]["object"]["status"] for e in notices) == sorted(b["status"] for b in verified(receiver))
    paid = [b for b in verified(receiver) if b["order_id"] == "n-1"]
    assert {b["payment_details"]["account_iban"] for b in paid} == {"*** 3000"}  # masked, as MultiSafepay does
    assert all("DE89370400440532013000" not in r.body for r in receiver.received)
    refunds = verified(receiver)[2]["related_transactions"]
    assert [(r["status"], r["amount"]) for r in refunds] == [("completed", 1000)]  # type: ignore[index]


def test_the_get_variant_carries_no_body(server: LiveServer, om: OrderManager, receiver: Receiver) -> None:
    created = om.create(order_request("get-1", 1000, shop="http://shop.example", notify=receiver.url, method="GET"))
    act_on_bank_page(created.get_data().payment_url)
    wait_until(lambda: len(receiver.received) >= 1)
    got = receiver.received[0]
    query = parse_qs(urlsplit(got.path).query)
    assert got.method == "GET" and got.body == "" and query["transactionid"] == ["get-1"] and "timestamp" in query


def test_an_unacknowledged_notification_is_sent_again_three_times_at_15_minutes(
    server: LiveServer, om: OrderManager, receiver: Receiver
) -> None:
    receiver.answer = "received, thanks"  # no OK: not acknowledged
    created = om.create(order_request("retry", 1000, shop="http://shop.example", notify=receiver.url)).get_data()
    act_on_bank_page(created.payment_url)
    wait_until(lambda: recorded_attempts(server) == 1)
    advance(server, 890)
    assert len(receiver.received) == 1
    advance(server, 10)
    assert len(receiver.received) == 2
    for expected in (3, 4):
        made = advance(server, 900)
        assert len(receiver.received) == expected, made
    advance(server, 3 * 3600)
    assert len(receiver.received) == 4  # three retries, then MultiSafepay gives up
    assert len(verified(receiver)) == 4


def test_an_acknowledged_notification_is_not_sent_again(
    server: LiveServer, om: OrderManager, receiver: Receiver
) -> None:
    receiver.answer = "OK"
    created = om.create(order_request("acked", 1000, shop="http://shop.example", notify=receiver.url)).get_data()
    act_on_bank_page(created.payment_url)
    wait_until(lambda: recorded_attempts(server) == 1)
    advance(server, 3600)
    assert len(receiver.received) == 1


@pytest.mark.parametrize("width", [1280, 375])
def test_the_payment_page_lets_the_customer_choose_sofort(
    server: LiveServer, browser: Browser, shop_url: str, width: int
) -> None:
    """A redirect order without ``gateway``: MultiSafepay's payment page with the methods to choose
    from (Sofort), then the bank page, then the shop. Screenshots in /tmp for a look."""
    body = {
        "type": "redirect", "order_id": f"choose-{width}", "currency": "EUR", "amount": 4250,
        "description": "Bücher für Jörg", "customer": {"country": "DE", "locale": "de_DE"},
        "payment_options": {"redirect_url": f"{shop_url}/ok", "cancel_url": f"{shop_url}/cancel"},
    }  # fmt: skip
    created = httpx.post(f"{server.url}/multisafepay/v1/json/orders", json=body, headers={"api_key": API_KEY})
    context = browser.new_context(locale="de-DE", viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(created.json()["data"]["payment_url"])
        method = page.get_by_test_id("method-DIRECTBANK")
        assert method.is_checked() and method.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing overflows sideways
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        page.screenshot(path=f"/tmp/msp_payment_page_{width}.png", full_page=True)
        page.get_by_test_id("continue").click()
        page.get_by_test_id("approve").click()
        page.wait_for_url(f"{shop_url}/ok?transactionid=choose-{width}")
    finally:
        context.close()
    order = httpx.get(f"{server.url}/multisafepay/v1/json/orders/choose-{width}", headers={"api_key": API_KEY})
    assert (order.json()["data"]["status"], order.json()["data"]["payment_details"]["type"]) == (
        "completed",
        "DIRECTBANK",
    )
