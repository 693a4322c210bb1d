"""secuconnect end to end in headless Chromium, on SQLite and PostgreSQL: pretix-secuconnect's client starts
a Smart Transaction, the customer follows ``payment_links.sofort`` to the Sofort page (never framed),
enters secuconnect's test account 88888888 and approves, lands on ``url_success``; the Smart Transaction is
``pending``, then ``ok`` after the merchant's clock moves on. Pushes reach a loopback receiver and are
re-read through the client, as pretix's webhook view does. The shop's pages are Playwright routes; every
request off this machine is aborted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

from kasse.engine.merchants import SANDBOX
from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from tests.conftest import LiveServer
from tests.helpers import check
from tests.secu_helpers import (
    DAY_S,
    PaymentStatusSimple,
    Pushes,
    advance,
    live_kasse,
    secuconnect,
    smart_body,
    wait_until,
)
from tests.test_browser import shop_url as _shop_url

pytestmark = pytest.mark.browser
shop_url = _shop_url  # a real shop on loopback (module-scoped fixture)

SHOP = "http://shop.example"
SHOP_PAGE = "<!doctype html><title>Shop</title><h1>Back at the shop</h1>"


@pytest.fixture
def live(database: Database) -> Iterator[tuple[LiveServer, Kasse]]:
    server, kasse = live_kasse(database)
    with server:
        yield server, kasse


@pytest.fixture
def server(live: tuple[LiveServer, Kasse]) -> LiveServer:
    return live[0]


@pytest.fixture
def client(server: LiveServer) -> Any:
    return secuconnect(server)


@pytest.fixture
def pushes() -> Iterator[Pushes]:
    yield from Pushes().start()


def _route(route: Route) -> None:
    """The shop answers its own URLs; Kasse on loopback is reached; nothing else leaves the machine."""
    url = route.request.url
    if url.startswith(SHOP):
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=SHOP_PAGE)
    elif urlsplit(url).hostname == "127.0.0.1":
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="de-DE", viewport={"width": 1100, "height": 900})
    ctx.route("**/*", _route)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def reread(client: Any, push: dict[str, Any]) -> dict[str, Any]:
    """What pretix's WebhookView does with a push: re-read each payment transaction it names."""
    assert push["object"] == "event.pushes" and push["target"] == "payment.transactions"
    (item,) = push["data"]
    assert item["object"] == "payment.transactions"
    transaction: dict[str, Any] = client.fetch_payment_transaction_info(item["id"])
    PaymentStatusSimple(transaction["details"]["status_simple"])  # pretix crashes on an unknown code
    return transaction


def test_pretix_flow_in_chromium_pending_then_ok_with_pushes_and_a_refund(
    live: tuple[LiveServer, Kasse], client: Any, page: Page, pushes: Pushes
) -> None:
    server, kasse = live
    stx = client.start_smart_transaction(smart_body(SHOP, amount=2350, push=pushes.url))
    response = page.goto(stx["payment_links"]["sofort"])
    assert response is not None and response.status == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert page.get_by_test_id("amount").inner_text() == "23,50 €"
    page.get_by_test_id("iban").fill("88888888")
    page.get_by_test_id("approve").click()
    page.wait_for_url(f"{SHOP}/success")
    assert page.locator("h1").inner_text() == "Back at the shop"
    stx = client.fetch_smart_transaction_info(stx["id"])
    assert stx["status"] == "pending"
    pci = stx["transactions"][0]["id"]
    wait_until(lambda: len(pushes.received) == 1)
    assert pushes.received[0]["type"] == "changed" and pushes.received[0]["data"][0]["id"] == pci
    assert PaymentStatusSimple(reread(client, pushes.received[0])["details"]["status_simple"]).name == "PENDING"
    advance(server, DAY_S, client)
    assert client.fetch_smart_transaction_info(stx["id"])["status"] == "ok"
    wait_until(lambda: len(pushes.received) == 2)
    assert PaymentStatusSimple(reread(client, pushes.received[1])["details"]["status_simple"]).name == "ACCEPTED"
    _, child = client.cancel_payment_transaction(pci, 350)
    wait_until(lambda: len(pushes.received) == 3)
    assert pushes.received[2]["type"] == "added"
    parent = reread(client, pushes.received[2])
    related = [r["id"] for r in parent["related_transactions"] if r["hierarchy"] == "child"]
    assert related == [child["id"]] and client.fetch_payment_transaction_info(child["id"])["amount"] == -350
    assert client.fetch_payment_transaction_status(pci)["amount"] == 2000
    check(kasse, SANDBOX.id)


def test_another_account_is_refused_with_a_warning_then_the_test_bic_pays(
    server: LiveServer, client: Any, page: Page
) -> None:
    stx = client.start_smart_transaction(smart_body(SHOP))
    page.goto(stx["payment_links"]["sofort"])
    page.get_by_test_id("iban").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_test_id("approve").click()
    warning = page.get_by_test_id("warning")
    assert "88888888" in warning.inner_text() and "echte" in warning.inner_text()
    assert client.fetch_smart_transaction_info(stx["id"])["status"] == "created"
    page.get_by_test_id("iban").fill("")
    page.get_by_test_id("bic").fill("88888888")
    page.get_by_test_id("approve").click()
    page.wait_for_url(f"{SHOP}/success")
    assert client.fetch_smart_transaction_info(stx["id"])["status"] == "pending"


def test_abort_in_chromium_returns_to_url_abort_without_a_push(
    server: LiveServer, client: Any, page: Page, pushes: Pushes
) -> None:
    stx = client.start_smart_transaction(smart_body(SHOP, push=pushes.url))
    page.goto(stx["payment_links"]["sofort"])
    page.get_by_test_id("cancel").click()
    page.wait_for_url(f"{SHOP}/abort")
    stx = client.fetch_smart_transaction_info(stx["id"])
    assert stx["status"] == "cancelled" and stx["transactions"] == []
    page.goto(stx["payment_links"]["sofort"])  # the page again: no longer open, a way back to the shop
    assert page.get_by_test_id("return").get_attribute("href") == f"{SHOP}/abort"
    advance(server, 60)
    assert pushes.received == []


def test_the_sofort_page_cannot_be_framed(server: LiveServer, client: Any, page: Page, shop_url: str) -> None:
    """The seed forbids a Sofort payment inside an iframe: Chromium refuses to show the page in one, while
    a frameable page beside it loads (so the check can fail). The shop is a real server on loopback:
    Chromium's local-network checks would keep a public site from framing loopback at all."""
    loopback_shop = shop_url
    stx = client.start_smart_transaction(smart_body(SHOP))
    page.goto(f"{loopback_shop}/checkout")
    page.set_content(
        f'<iframe id="shop" src="{loopback_shop}/inner"></iframe>'
        f'<iframe id="pay" src="{stx["payment_links"]["sofort"]}" width="600" height="400"></iframe>'
    )
    assert page.frame_locator("#shop").locator("h1").inner_text() == "Back at the shop"
    page.wait_for_timeout(500)
    framed = [f for f in page.frames if f.parent_frame is not None and not f.url.startswith(loopback_shop)]
    assert len(framed) == 1 and framed[0].url == "chrome-error://chromewebdata/", [f.url for f in page.frames]
    assert framed[0].locator("[data-testid=approve]").count() == 0
    assert client.fetch_smart_transaction_info(stx["id"])["status"] == "created"
