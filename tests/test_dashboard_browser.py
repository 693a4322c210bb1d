"""The dashboard in headless Chromium, against a live Kasse: sign in, follow a payment from creation to
settlement with the clock buttons, refund it, resend a failed delivery, search by reference; the home
page and /api/docs render with every non-loopback request cut off. Screenshots of each page at desktop
and phone width go to test-artifacts/ (gitignored)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.conftest import AUTH, LiveServer

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WIDTHS = {"desktop": 1280, "phone": 375}


class Receiver:
    """A shop's webhook endpoint that fails until told otherwise."""

    def __init__(self) -> None:
        self.status = 500
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status == 200 else b"down for maintenance")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def offline(context: BrowserContext) -> list[str]:
    """Cut the browser off from everything but loopback; returns the requests that tried to leave."""
    tried: list[str] = []

    def handle(route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith("data:") or host in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            tried.append(route.request.url)
            route.abort()

    context.route("**/*", handle)
    return tried


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


def shoot(page: Page, name: str) -> None:
    """The current page at desktop and phone width; at phone width nothing may overflow sideways."""
    ARTIFACTS.mkdir(exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}-{label}.png"), full_page=True)
        if label == "phone":
            expect(page.get_by_test_id("test-mode")).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{name} is {overflow}px wider than a phone"
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(context: BrowserContext, base: str) -> Page:
    page = context.new_page()
    page.goto(f"{base}/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/login"))
    shoot(page, "login")
    page.get_by_test_id("secret-key").fill("sk_test_kasse_sandbox")
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("merchant")).to_have_text("mer_sandbox")
    return page


def resend_the_failed_delivery(page: Page, url: str, receiver: Receiver) -> None:
    """Every delivery to the failing receiver ran out of retries during the 15 days; now it answers."""
    page.goto(url)
    expect(page.get_by_test_id("delivery-status").filter(has_text="failed").first).to_be_visible()
    receiver.status = 200
    row = page.get_by_test_id("delivery-row").filter(has_text="payment.succeeded")
    row.get_by_role("button", name="Resend").click()
    expect(page.get_by_test_id("notice")).to_have_text("resend: done")
    expect(
        page.get_by_test_id("delivery-row").filter(has_text="payment.succeeded").get_by_test_id("delivery-status")
    ).to_contain_text("succeeded")
    expect(page.get_by_test_id("timeline-attempt").filter(has_text="HTTP 200")).to_have_count(1)


def api_status(server: LiveServer, payment_id: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{server.url}/api/v1/payments/{payment_id}", headers=AUTH).json()
    return body


def test_follow_a_payment_from_creation_to_settlement_refund_and_resend(
    live_server: LiveServer, context: BrowserContext, receiver: Receiver
) -> None:
    base = live_server.url
    tried = offline(context)
    endpoint = httpx.post(f"{base}/api/v1/webhook_endpoints", headers=AUTH, json={"url": receiver.url}).json()
    assert endpoint["url"] == receiver.url
    pay = httpx.post(
        f"{base}/api/v1/payments", headers=AUTH,
        json={"amount": 15000, "currency": "EUR", "method": "sofort", "country": "DE", "reference": "order-4711",
              "return_url": "http://127.0.0.1:9/return"},
    ).json()  # fmt: skip
    page = sign_in(context, base)

    page.get_by_test_id("search").fill("order-4711")
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("payment-row")).to_have_count(1)
    page.get_by_test_id("payment-link").click()
    expect(page.get_by_test_id("payment-id")).to_have_text(pay["id"])
    expect(page.get_by_test_id("amount")).to_have_text("150.00 EUR")

    page.get_by_test_id("action-approve").click()
    expect(page.get_by_test_id("status")).to_have_text("processing")

    page.get_by_test_id("to-clock").click()
    page.get_by_test_id("advance-14d").click()
    expect(page.get_by_test_id("fired")).to_contain_text("capture.succeeded, payment.succeeded")
    shoot(page, "clock")
    assert api_status(live_server, pay["id"])["status"] == "succeeded"

    page.goto(f"{base}/dashboard/payments/{pay['id']}")
    expect(page.get_by_test_id("status")).to_have_text("succeeded")
    page.get_by_test_id("refund-amount").fill("25.00")
    page.get_by_test_id("action-refund").click()
    expect(page.get_by_test_id("notice")).to_have_text("refund: done")
    page.get_by_test_id("nav-clock").click()
    page.get_by_test_id("advance-1d").click()  # the refund's money goes out (if the scheduler has not sent it)
    expect(page.get_by_test_id("clock-now")).to_be_visible()
    refunds = httpx.get(f"{base}/api/v1/payments/{pay['id']}/refunds", headers=AUTH).json()["data"]
    assert [(r["amount"], r["status"]) for r in refunds] == [(2500, "succeeded")]
    got = api_status(live_server, pay["id"])
    assert (got["amount_settled"], got["amount_refunded"]) == (15000, 2500)

    resend_the_failed_delivery(page, f"{base}/dashboard/payments/{pay['id']}", receiver)
    shoot(page, "payment")
    page.screenshot(path=str(ARTIFACTS / "dashboard-payment-top.png"))  # the README's picture

    for name in ("payments", "webhooks", "balance", "credentials"):
        page.get_by_test_id(f"nav-{name}").click()
        expect(page.get_by_test_id("test-mode")).to_be_visible()
        shoot(page, name)
    page.get_by_test_id("nav-balance").click()
    expect(page.get_by_test_id("available-EUR")).to_have_text("125.00 EUR")
    assert tried == []


def test_home_page_and_api_docs_render_with_the_network_cut_off(
    live_server: LiveServer, context: BrowserContext
) -> None:
    tried = offline(context)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("front-doors")).to_contain_text(f"{live_server.url}/stripe/v1")
    expect(page.get_by_test_id("front-doors")).to_contain_text("/multisafepay/v1/")
    shoot(page, "home")
    page.get_by_test_id("home-api-docs").click()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Kasse")
    expect(page.locator(".opblock").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    assert tried == [], tried


def test_the_bank_page_keeps_its_test_mode_badge_at_phone_width(live_server: LiveServer, browser: Browser) -> None:
    pay = httpx.post(
        f"{live_server.url}/api/v1/payments", headers=AUTH,
        json={"amount": 2500, "currency": "EUR", "method": "sofort", "return_url": "http://127.0.0.1:9/r"},
    ).json()  # fmt: skip
    context = browser.new_context(viewport={"width": 375, "height": 700})
    try:
        page = context.new_page()
        page.goto(pay["next_action"]["redirect_url"])
        expect(page.locator(".badge")).to_be_visible()
        expect(page.get_by_test_id("language")).to_be_in_viewport(ratio=1)
        assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 1
    finally:
        context.close()
