"""The whole Klarna journey in real headless Chromium, on SQLite and PostgreSQL: the partner's authorize
call steps up to a payment request, the customer opens ``payment_request_url`` (Kasse's approval page),
approves, and comes back to the partner's ``return_url`` with its ``{klarna.payment_request.*}``
placeholders filled (answered by a Playwright route; every other non-loopback request is aborted); the
partner authorizes with the token from the return URL, captures and refunds, and the ledger balances."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from tests.conftest import LiveServer
from tests.helpers import check
from tests.klarna_support import APPROVED, DENIED, Klarna, live_kasse

pytestmark = pytest.mark.browser

SHOP = "https://shop.example"
RETURN = (
    SHOP + "/return?id={klarna.payment_request.id}&state={klarna.payment_request.state}"
    "&token={klarna.payment_request.payment_token}&nst={klarna.payment_request.klarna_network_session_token}"
    "&ref={klarna.payment_request.payment_request_reference}&order=42"
)


@pytest.fixture
def server(database: Database) -> Iterator[LiveServer]:
    with live_kasse(database) as live:
        yield live


@pytest.fixture
def klarna(server: LiveServer) -> Iterator[Klarna]:
    client = Klarna(server.url)
    yield client
    client.http.close()


def _route(route: Route) -> None:
    """The shop's return page, served by the test; Kasse on loopback; nothing else leaves the machine."""
    url = urlsplit(route.request.url)
    if url.hostname == "127.0.0.1":
        route.continue_()
    elif f"{url.scheme}://{url.hostname}" == SHOP:
        route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><title>Shop</title><h1>Back at the shop</h1>"
        )
    else:
        route.abort()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        contexts.append(browser.new_context(locale="en-US"))
        contexts[-1].route("**/*", _route)
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


def _kasse(server: LiveServer) -> Kasse:
    kasse: Kasse = server.server.config.app.state.kasse
    return kasse


def _step_up(klarna: Klarna, amount: int, email: str = APPROVED) -> tuple[str, str]:
    answer = klarna.step_up(amount, RETURN, email=email)
    request = answer["payment_request"]
    return request["payment_request_id"], request["state_context"]["customer_interaction"]["payment_request_url"]


def _returned(page: Page) -> dict[str, str]:
    page.wait_for_url(f"{SHOP}/return?**")
    assert page.locator("h1").inner_text() == "Back at the shop"
    return dict(parse_qsl(urlsplit(page.url).query, keep_blank_values=True))


def test_journey_authorize_capture_refund(server: LiveServer, klarna: Klarna, new_page: Callable[[], Page]) -> None:
    request_id, url = _step_up(klarna, 11800)
    page = new_page()
    page.goto(url)
    assert page.get_by_test_id("amount").inner_text() == "€118.00"
    assert klarna.call("GET", f"/v2/payment/requests/{request_id}").json()["state"] == "IN_PROGRESS"
    page.get_by_test_id("approve").click()
    back = _returned(page)
    read = klarna.call("GET", f"/v2/payment/requests/{request_id}").json()
    context = read["state_context"]
    assert back == {"id": request_id, "state": "COMPLETED", "token": context["payment_token"],
                    "nst": context["klarna_network_session_token"], "ref": "pr-1", "order": "42"}  # fmt: skip

    body = {
        "currency": "EUR",
        "request_payment_transaction": {"amount": 11800, "payment_transaction_reference": "o-42"},
    }
    authorized = klarna.authorize(body, **{"Klarna-Payment-Token": back["token"]})
    result = authorized.json()["payment_transaction_response"]
    assert result["result"] == "APPROVED", authorized.text
    tid = result["payment_transaction"]["payment_transaction_id"]
    capture = klarna.post(f"/v2/payment/transactions/{tid}/captures", {"amount": 11800})
    assert capture.status_code == 201, capture.text
    refund = klarna.post(f"/v2/payment/transactions/{tid}/refunds", {"amount": 1800})
    assert refund.status_code == 201, refund.text
    final = klarna.call("GET", f"/v2/payment/transactions/{tid}").json()
    assert (final["state"], final["captured_amount"], final["refunded_amount"]) == ("COMPLETED", 11800, 1800)
    check(_kasse(server))


def test_the_denied_customer_and_a_refused_code(
    server: LiveServer, klarna: Klarna, new_page: Callable[[], Page]
) -> None:
    request_id, url = _step_up(klarna, 2000)
    page = new_page()
    page.goto(url)
    page.get_by_test_id("otp").fill("999999")  # Klarna's test code that always fails
    page.get_by_test_id("approve").click()
    assert "not accepted" in page.get_by_test_id("error").inner_text()
    assert klarna.call("GET", f"/v2/payment/requests/{request_id}").json()["state"] == "IN_PROGRESS"
    page.get_by_test_id("email").fill(DENIED)
    page.get_by_test_id("otp").fill("123456")
    page.get_by_test_id("approve").click()
    back = _returned(page)
    assert (back["state"], back["token"], back["nst"]) == ("DECLINED", "", "")
    assert klarna.call("GET", f"/v2/payment/requests/{request_id}").json()["state"] == "DECLINED"
    page.goto(url)  # the journey is over: the page says so and links back to the shop
    assert "no longer open" in page.content()


def test_cancel_goes_back_submitted(server: LiveServer, klarna: Klarna, new_page: Callable[[], Page]) -> None:
    request_id, url = _step_up(klarna, 2000)
    page = new_page()
    page.goto(url)
    page.get_by_test_id("cancel").click()
    assert _returned(page)["state"] == "SUBMITTED"
    read = klarna.call("GET", f"/v2/payment/requests/{request_id}").json()
    assert (read["state"], read["state_reason"]) == ("SUBMITTED", "PURCHASE_FLOW_ABORTED")
