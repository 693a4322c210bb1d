"""The MultiSafepay dialect through the official SDK against a live Kasse, on SQLite and PostgreSQL:
orders, statuses on the merchant's clock, refunds, updates and MultiSafepay's errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

from kasse.dialects.multisafepay import ids as msp_ids
from kasse.domain.models import Payment, Refund
from kasse.engine.merchants import SANDBOX
from kasse.storage.db import Database
from kasse.storage.store import Store
from tests.conftest import AUTH, LiveServer
from tests.msp_helpers import (
    API_KEY,
    DAY_S,
    OrderManager,
    RefundOrderRequest,
    UpdateOrderRequest,
    act_on_bank_page,
    advance,
    bank_page,
    order_request,
    orders,
)
from tests.msp_helpers import (
    live_kasse as _live_kasse,
)

SHOP = "http://shop.example"


@pytest.fixture
def server(database: Database) -> Iterator[LiveServer]:
    with _live_kasse(database) as live:
        yield live


@pytest.fixture
def om(server: LiveServer) -> OrderManager:
    return orders(server)


def status(om: OrderManager, order_id: str) -> tuple[str, str]:
    order = om.get(order_id).get_data()
    assert order is not None
    return order.status, order.financial_status


def error_of(call: Any) -> tuple[int, dict[str, Any]]:
    """The SDK raises requests.HTTPError on a 4xx, as against MultiSafepay; the body is the error."""
    with pytest.raises(requests.HTTPError) as caught:
        call()
    response = caught.value.response
    return response.status_code, response.json()


def ledger_balances(server: LiveServer) -> None:
    transfers = httpx.get(f"{server.url}/api/v1/ledger/transfers", params={"limit": 100}, headers=AUTH).json()
    assert transfers["data"]
    for transfer in transfers["data"]:
        assert sum(leg["amount"] for leg in transfer["legs"]) == 0, transfer


def test_redirect_order_is_initialized_with_a_payment_page(server: LiveServer, om: OrderManager) -> None:
    created = om.create(order_request("ord-1", 5000, shop=SHOP))
    data = created.get_data()
    assert created.get_body_success() is True
    assert data.order_id == "ord-1"
    assert data.payment_url.startswith(f"{server.url}/multisafepay/pay/")
    assert data.session_id
    order = om.get("ord-1").get_data()
    assert (order.status, order.financial_status) == ("initialized", "initialized")
    assert order.amount == 5000 and order.currency == "EUR" and order.amount_refunded == 0
    assert order.customer.country == "DE" and order.customer.email == "kunde@example.com"
    assert order.payment_details.type == "DIRECTBANK"
    assert order.payment_methods[0].type == "DIRECTBANK"
    assert order.transaction_id and order.transaction_id.isdigit()
    assert order.created and order.modified


def test_under_100_eur_completes_at_once_and_100_eur_after_24_hours(server: LiveServer, om: OrderManager) -> None:
    small = om.create(order_request("small", 9999, shop=SHOP)).get_data()
    large = om.create(order_request("large", 10_000, shop=SHOP)).get_data()
    back = act_on_bank_page(small.payment_url)
    assert back.status_code == 303 and back.headers["location"] == f"{SHOP}/ok?shop=1&transactionid=small"
    act_on_bank_page(large.payment_url)
    assert status(om, "small") == ("completed", "completed")
    assert status(om, "large") == ("uncleared", "uncleared")
    advance(server, DAY_S - 60)
    assert status(om, "large") == ("uncleared", "uncleared")
    advance(server, 60)
    assert status(om, "large") == ("completed", "completed")
    ledger_balances(server)


def test_direct_order_answers_the_full_order_and_goes_straight_to_the_bank(
    server: LiveServer, om: OrderManager
) -> None:
    request = order_request("direct-1", 2500, shop=SHOP, kind="direct").add_gateway_info(
        {"account_holder_name": "Max Mustermann", "account_holder_iban": "DE89370400440532013000"}
    )
    data = om.create(request).get_data()
    assert data.status == "initialized" and data.order_id == "direct-1" and data.amount == 2500
    assert data.payment_url.startswith(f"{server.url}/pay/")
    act_on_bank_page(data.payment_url)
    order = om.get("direct-1").get_data()
    assert order.status == "completed"
    assert order.payment_details.account_holder_name == "Max Mustermann"


def test_cancel_on_the_bank_page_voids_and_returns_to_the_cancel_url(server: LiveServer, om: OrderManager) -> None:
    data = om.create(order_request("ord-void", 1000, shop=SHOP)).get_data()
    back = act_on_bank_page(data.payment_url, "cancel")
    assert back.headers["location"] == f"{SHOP}/cancel?transactionid=ord-void"
    assert status(om, "ord-void") == ("void", "void")


def reach_bank(payment_url: str) -> None:
    """The customer goes on from the payment page to Sofort (the bank page), and does nothing there."""
    assert httpx.get(bank_page(payment_url), follow_redirects=True, timeout=10).status_code == 200


def test_the_payment_page_lives_days_active_and_sofort_one_day_from_the_bank(
    server: LiveServer, om: OrderManager
) -> None:
    om.create(order_request("page", 1000, shop=SHOP))  # no days_active: the page lives 30 days
    om.create(order_request("hour", 1000, shop=SHOP, seconds_active=3600))
    at_once = om.create(order_request("at-once", 1000, shop=SHOP, days_active=3)).get_data()
    om.create(order_request("direct", 1000, shop=SHOP, kind="direct", days_active=3))
    late = om.create(order_request("late", 1000, shop=SHOP, days_active=2)).get_data()
    reach_bank(at_once.payment_url)
    advance(server, 3600)
    assert status(om, "hour") == ("expired", "expired")
    advance(server, DAY_S - 3600)
    assert status(om, "at-once") == ("expired", "expired")  # Sofort's day, not the page's 3 days
    assert status(om, "direct") == ("expired", "expired")  # a direct order is at the bank from the start
    advance(server, DAY_S // 2)
    reach_bank(late.payment_url)  # at 1.5 days: Sofort's day runs past the page's 2 days
    advance(server, DAY_S - 60)
    assert status(om, "late") == ("initialized", "initialized")
    advance(server, 60)
    assert status(om, "late") == ("expired", "expired")
    advance(server, 27 * DAY_S)  # 29.5 days
    assert status(om, "page") == ("initialized", "initialized")
    advance(server, DAY_S // 2)
    assert status(om, "page") == ("expired", "expired")


def test_refunds_full_partial_and_repeated(server: LiveServer, om: OrderManager) -> None:
    for order_id in ("partly", "fully"):
        act_on_bank_page(om.create(order_request(order_id, 5000, shop=SHOP)).get_data().payment_url)
    first = om.refund("partly", _refund(1000, "first")).get_data()
    assert first.transaction_id and first.transaction_id.isdigit()
    om.refund("partly", _refund(1500, "second"))
    order = om.get("partly").get_data()
    assert (order.status, order.amount_refunded) == ("partial_refunded", 2500)
    assert [t.status for t in order.related_transactions] == ["reserved", "reserved"]
    code, body = error_of(lambda: om.refund("partly", _refund(2501, "too much")))
    assert code == 400 and body["success"] is False and body["error_code"] == 1034
    om.refund("partly", _refund(2500, "the rest"))
    assert status(om, "partly")[0] == "refunded"
    om.refund("fully", _refund(None, "all of it"))  # no amount: the whole order
    assert om.get("fully").get_data().amount_refunded == 5000
    advance(server, 3600)
    order = om.get("partly").get_data()
    assert [t.status for t in order.related_transactions] == ["completed"] * 3
    assert order.status == "refunded"
    code, body = error_of(lambda: om.refund("fully", _refund(100, "again")))
    assert body["error_code"] == 1034
    ledger_balances(server)


def _refund(amount: int | None, description: str) -> RefundOrderRequest:
    request = RefundOrderRequest().add_currency("EUR").add_description(description)
    return request if amount is None else request.add_amount(amount)


def test_a_refund_needs_a_paid_order(server: LiveServer, om: OrderManager) -> None:
    om.create(order_request("unpaid", 1000, shop=SHOP))
    code, body = error_of(lambda: om.refund("unpaid", _refund(100, "x")))
    assert (code, body["error_code"]) == (409, 1034)
    code, body = error_of(lambda: om.refund("nobody", _refund(100, "x")))
    assert (code, body["error_code"]) == (404, 1006)


def test_patch_cancels_an_initialized_order_or_extends_its_expiry(server: LiveServer, om: OrderManager) -> None:
    om.create(order_request("to-cancel", 1000, shop=SHOP))
    om.create(order_request("to-extend", 1000, shop=SHOP, seconds_active=600))
    answer = om.update("to-cancel", UpdateOrderRequest().add_status("cancelled").add_reason("Out of stock"))
    assert answer.get_body_success() is True
    assert status(om, "to-cancel") == ("void", "cancelled")  # the merchant's cancel
    assert om.get("to-cancel").get_data().reason == "Out of stock"
    om.create(order_request("month", 1000, shop=SHOP))  # its page has 30 days: extending never shortens them
    om.update("to-extend", UpdateOrderRequest().add_extend_expiration(True))  # a day on its deadline
    om.update("month", UpdateOrderRequest().add_extend_expiration(True))
    advance(server, DAY_S + 540)  # (the live clock runs on meanwhile: a margin)
    assert status(om, "to-extend") == ("initialized", "initialized")
    advance(server, 120)
    assert status(om, "to-extend") == ("expired", "expired")
    advance(server, 2 * DAY_S)
    assert status(om, "month") == ("initialized", "initialized")
    code, body = error_of(lambda: om.update("to-cancel", UpdateOrderRequest().add_extend_expiration(True)))
    assert code == 409 and body["success"] is False


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": 9}, 1001),
        ({"currency": "CHF"}, 1002),
        ({"country": "NL"}, 1024),
        ({"country": "FR"}, 1024),
        ({"gateway": "IDEAL"}, 1023),
    ],
)
def test_refused_orders_leave_no_trace(
    server: LiveServer, om: OrderManager, changes: dict[str, Any], code: int
) -> None:
    request = order_request("refused", changes.get("amount", 1000), shop=SHOP, country=changes.get("country", "DE"))
    if "currency" in changes:
        request = request.add_currency(changes["currency"])
    if "gateway" in changes:
        request = request.add_gateway(changes["gateway"])
    status_code, body = error_of(lambda: om.create(request))
    assert status_code == 400
    assert body == {"success": False, "data": {}, "error_code": code, "error_info": body["error_info"]}
    status_code, body = error_of(lambda: om.get("refused"))
    assert (status_code, body["error_code"], body["error_info"]) == (404, 1006, "Invalid transaction ID")
    payments = httpx.get(f"{server.url}/api/v1/payments", headers=AUTH).json()["data"]
    assert payments == []


@pytest.mark.parametrize(
    ("shop", "notify", "words"),
    [
        (SHOP, "http://169.254.169.254/latest/meta-data/", "always refused"),
        (SHOP, "http://metadata.google.internal/notify", "always refused"),
        (SHOP, "http://[::ffff:169.254.169.254]/notify", "always refused"),
        (SHOP, "http://2852039166/notify", "always refused"),
        (SHOP, "javascript:alert(1)", "not a valid URL"),
        (SHOP, "http://shop.example/n\r\nX: 1", "not a valid URL"),
        ("javascript:alert(1)//", None, "not a valid URL"),  # redirect_url and cancel_url
        ("data:text/html,x", None, "not a valid URL"),
        ("http://shop.example/\r\nSet-Cookie: a=b", None, "not a valid URL"),
    ],
)
def test_unsafe_redirect_cancel_and_notification_urls_are_refused(
    server: LiveServer, om: OrderManager, shop: str, notify: str | None, words: str
) -> None:
    status_code, body = error_of(lambda: om.create(order_request("unsafe", 1000, shop=shop, notify=notify)))
    assert (status_code, body["success"], body["error_code"]) == (400, False, 1016)
    assert words in body["error_info"]
    assert error_of(lambda: om.get("unsafe"))[0] == 404
    assert httpx.get(f"{server.url}/api/v1/payments", headers=AUTH).json()["data"] == []
    assert httpx.get(f"{server.url}/api/v1/webhook_endpoints", headers=AUTH).json()["data"] == []


def test_a_duplicate_order_id_is_refused(server: LiveServer, om: OrderManager) -> None:
    om.create(order_request("twice", 1000, shop=SHOP))
    code, body = error_of(lambda: om.create(order_request("twice", 2000, shop=SHOP)))
    assert (code, body["error_code"]) == (409, 1006)
    assert om.get("twice").get_data().amount == 1000
    assert len(httpx.get(f"{server.url}/api/v1/payments", headers=AUTH).json()["data"]) == 1


def test_a_refund_and_its_order_are_found_by_their_multisafepay_ids(
    server: LiveServer, om: OrderManager, database: Database
) -> None:
    act_on_bank_page(om.create(order_request("found", 5000, shop=SHOP)).get_data().payment_url)
    refund = om.refund("found", _refund(1000, "part")).get_data()
    order = om.get("found").get_data()
    with database.transaction(write=False) as conn:
        store = Store(conn)
        found = msp_ids.find_transaction(store, merchant_id=SANDBOX.id, transaction_id=refund.transaction_id)
        paid = msp_ids.find_transaction(store, merchant_id=SANDBOX.id, transaction_id=order.transaction_id)
        assert msp_ids.find_transaction(store, merchant_id="mer_other", transaction_id=refund.transaction_id) is None
    assert isinstance(found, Refund) and (found.amount_minor, found.reason) == (1000, "part")
    assert isinstance(paid, Payment) and paid.reference == "found" and found.payment_id == paid.id


def test_the_api_key_in_any_of_its_three_places(server: LiveServer) -> None:
    code, body = error_of(lambda: orders(server, api_key="wrong-key-123").get("x"))
    assert (code, body) == (401, {"success": False, "data": {}, "error_code": 1032, "error_info": "Invalid API key"})
    orders(server).create(order_request("keyed", 1000, shop=SHOP))
    base = f"{server.url}/multisafepay/v1/json/orders/keyed"
    by_header = httpx.get(base, headers={"api_key": API_KEY}, params={"locale": "en_US", "order_id": "keyed"})
    by_query = httpx.get(base, params={"api_key": API_KEY})
    assert by_header.json()["data"]["order_id"] == by_query.json()["data"]["order_id"] == "keyed"
    assert httpx.get(base).status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", 1016),
        (b"[]", 1016),
        (b'{"type": "redirect", "gateway": "DIRECTBANK", "currency": "EUR", "amount": 1000, "description": "d"}', 1016),
        (b'{"type": "redirect", "gateway": "DIRECTBANK", "order_id": "x", "currency": "EUR", "amount": 1000}', 1008),
        (
            b'{"type": "redirect", "gateway": "DIRECTBANK", "order_id": "x", "currency": "EUR", "amount": 10.5, '
            b'"description": "d"}',
            1001,
        ),
        (
            b'{"type": "redirect", "gateway": "DIRECTBANK", "order_id": "x", "currency": "EUR", "amount": 1000, '
            b'"description": "d", "var1": "' + b"v" * 101 + b'"}',
            1010,
        ),
        (
            b'{"type": "redirect", "gateway": "DIRECTBANK", "order_id": "x", "currency": "EUR", "amount": 1000, '
            b'"description": "d", "customer": {"country": "Germany"}}',
            1018,
        ),
        (
            b'{"type": "checkout", "gateway": "DIRECTBANK", "order_id": "x", "currency": "EUR", "amount": 1000, '
            b'"description": "d"}',
            1000,
        ),
    ],
)
def test_malformed_requests_get_multisafepay_errors(server: LiveServer, body: bytes, code: int) -> None:
    r = httpx.post(
        f"{server.url}/multisafepay/v1/json/orders", content=body,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )  # fmt: skip
    assert r.status_code == 400, r.text
    assert r.json()["success"] is False and r.json()["data"] == {} and r.json()["error_code"] == code
    assert httpx.get(f"{server.url}/api/v1/payments", headers=AUTH).json()["data"] == []


def test_a_declined_order_and_an_order_id_that_needs_encoding(server: LiveServer, om: OrderManager) -> None:
    order_id = "shop/2026 ä-1"  # the SDK percent-encodes it as one path segment
    data = om.create(order_request(order_id, 1000, shop=SHOP)).get_data()
    assert data.order_id == order_id
    back = act_on_bank_page(data.payment_url, "decline")
    assert back.headers["location"] == f"{SHOP}/cancel?transactionid=shop%2F2026%20%C3%A4-1"
    assert status(om, order_id) == ("declined", "declined")
    code, body = error_of(lambda: om.refund(order_id, _refund(100, "x")))
    assert (code, body["error_code"]) == (409, 1034)


def test_unknown_paths_answer_in_multisafepay_shape(server: LiveServer) -> None:
    r = httpx.get(f"{server.url}/multisafepay/v1/json/issuers/IDEAL", headers={"api_key": API_KEY})
    assert r.status_code == 404
    assert r.json() == {"success": False, "data": {}, "error_code": 1000, "error_info": "Not found: json/issuers/IDEAL"}
