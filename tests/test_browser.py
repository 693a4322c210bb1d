"""End to end in headless Chromium: a shop creates a payment, the customer clicks through the hosted
page, lands back at the shop, and days later the money has settled and the ledger balances."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import AUTH, LiveServer
from tests.helpers import ShopPage

pytestmark = pytest.mark.browser

DAY_S = 86_400


@pytest.fixture(scope="module")
def shop_url() -> Iterator[str]:
    """A shop on another port, so the return is a real cross-origin redirect after a form post."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), ShopPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=10) as client:
        yield client


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Pages in fresh contexts (own cookies, own Accept-Language), closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(locale: str = "en-US") -> Page:
        contexts.append(browser.new_context(locale=locale, viewport={"width": 1100, "height": 900}))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


def create(api: httpx.Client, shop_url: str, **fields: Any) -> dict[str, Any]:
    body = {
        "amount": 1000, "currency": "EUR", "method": "sofort", "country": "DE",
        "return_url": f"{shop_url}/return?order=42", "cancel_url": f"{shop_url}/cancel", **fields,
    }  # fmt: skip
    r = api.post("/api/v1/payments", json=body)
    assert r.status_code == 201, r.text
    payment: dict[str, Any] = r.json()
    return payment


def status_of(api: httpx.Client, payment: dict[str, Any]) -> str:
    return str(api.get(f"/api/v1/payments/{payment['id']}").json()["status"])


def test_sofort_approve_settles_and_the_ledger_balances(
    new_page: Callable[..., Page], api: httpx.Client, shop_url: str
) -> None:
    payment = create(api, shop_url)
    page = new_page(locale="de-DE")
    response = page.goto(payment["next_action"]["redirect_url"])
    assert response is not None and response.status == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert page.get_by_test_id("amount").inner_text() == "10,00 €"
    assert page.get_by_label("IBAN").input_value() == "DE89 3704 0044 0532 0130 00"
    page.screenshot(path="/tmp/bank_page.png", full_page=True)

    page.get_by_test_id("approve").click()
    page.wait_for_url(re.compile(rf"^{re.escape(shop_url)}/return\?order=42&payment_id={payment['id']}$"))
    assert page.locator("h1").inner_text() == "Back at the shop"
    assert status_of(api, payment) == "processing"

    advanced = api.post("/_sandbox/clock/advance", json={"seconds": 3 * DAY_S})
    assert advanced.status_code == 200, advanced.text
    assert status_of(api, payment) == "succeeded"
    assert api.get("/api/v1/balance").json()["available"] == [{"amount": 1000, "currency": "EUR"}]
    transfers = api.get("/api/v1/ledger/transfers", params={"limit": 100}).json()["data"]
    assert transfers, "the payment left no ledger transfers"
    for transfer in transfers:
        assert sum(leg["amount"] for leg in transfer["legs"]) == 0, transfer


def test_cancel_returns_to_the_cancel_url(new_page: Callable[..., Page], api: httpx.Client, shop_url: str) -> None:
    payment = create(api, shop_url)
    page = new_page()
    page.goto(payment["next_action"]["redirect_url"])
    assert page.get_by_test_id("approve").inner_text() == "Approve payment"  # Accept-Language: en-US
    page.get_by_test_id("cancel").click()
    page.wait_for_url(f"{shop_url}/cancel?payment_id={payment['id']}")
    assert status_of(api, payment) == "canceled"


def test_klarna_decline_fails_the_payment(new_page: Callable[..., Page], api: httpx.Client, shop_url: str) -> None:
    payment = create(api, shop_url, method="klarna_pay_later")
    page = new_page()
    page.goto(payment["next_action"]["redirect_url"] + "?lang=de")
    assert page.get_by_test_id("method").inner_text() == "In 30 Tagen bezahlen"
    page.get_by_test_id("decline").click()
    page.wait_for_url(f"{shop_url}/return?order=42&payment_id={payment['id']}")
    assert status_of(api, payment) == "failed"

    page.goto(payment["next_action"]["redirect_url"])  # the customer comes back to the page
    assert page.get_by_test_id("message-title").inner_text() == "This payment is no longer open"
    assert page.get_by_test_id("approve").count() == 0


def test_page_refuses_to_be_framed(new_page: Callable[..., Page], api: httpx.Client, shop_url: str) -> None:
    """A shop page that frames the bank page gets an empty frame (frame-ancestors 'none', X-Frame-Options)."""
    payment = create(api, shop_url)
    page = new_page()
    page.goto(f"{shop_url}/return")
    frames = f'<iframe id="bank" src="{payment["next_action"]["redirect_url"]}"></iframe>'
    frames += f'<iframe id="shop" src="{shop_url}/return"></iframe>'
    page.set_content(frames, wait_until="load")  # the load event waits for both frames
    assert page.frame_locator("#shop").locator("h1").inner_text() == "Back at the shop"  # framing works at all
    assert page.frame_locator("#bank").get_by_test_id("approve").count() == 0
