"""The MultiSafepay dialect through the official SDK's managers, every answer parsed into the SDK's own
models without loss (each key Kasse sends is in the parsed model with the same value): payment methods,
gateways, orders with carts, ``refund_by_item``; and over raw HTTP what older wrappers send (numbers as
floats and strings) and MultiSafepay's refund rules. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import requests

from kasse.storage.db import Database
from tests.conftest import LiveServer
from tests.msp_helpers import API_KEY, DAY_S, OrderManager, act_on_bank_page, advance, live_kasse, order_request, orders
from tests.msp_sdk import load

load()

from multisafepay import Sdk  # noqa: E402
from multisafepay.api.paths.orders.order_id.refund.response.order_refund import OrderRefund  # noqa: E402
from multisafepay.api.paths.orders.request.components.checkout_options import CheckoutOptions  # noqa: E402
from multisafepay.api.paths.orders.request.order_request import OrderRequest  # noqa: E402
from multisafepay.api.paths.orders.response.order_response import Order  # noqa: E402
from multisafepay.api.shared.cart.cart_item import CartItem  # noqa: E402
from multisafepay.api.shared.cart.shopping_cart import ShoppingCart  # noqa: E402
from multisafepay.api.shared.customer import Customer  # noqa: E402

SHOP = "http://shop.example"


@pytest.fixture
def server(database: Database) -> Iterator[LiveServer]:
    with live_kasse(database) as live:
        yield live


@pytest.fixture
def sdk(server: LiveServer) -> Sdk:
    return Sdk(api_key=API_KEY, is_production=False, base_url=f"{server.url}/multisafepay/v1/")


@pytest.fixture
def om(server: LiveServer) -> OrderManager:
    return orders(server)


def raw(server: LiveServer, path: str, **params: Any) -> Any:
    answer = httpx.get(f"{server.url}/multisafepay/v1/{path}", params=params, headers={"api_key": API_KEY})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def lost(sent: Any, parsed: Any, where: str = "") -> list[str]:
    """What of ``sent`` (Kasse's JSON) the SDK's parsed model does not hold, key by key."""
    if isinstance(sent, dict):
        if not isinstance(parsed, dict):
            return [f"{where}: {parsed!r}"]
        return [f for key, value in sent.items() for f in lost(value, parsed.get(key, ...), f"{where}.{key}")]
    if isinstance(sent, list):
        if not isinstance(parsed, list) or len(parsed) != len(sent):
            return [f"{where}: {parsed!r}"]
        return [f for i, (a, b) in enumerate(zip(sent, parsed, strict=True)) for f in lost(a, b, f"{where}[{i}]")]
    if sent == parsed or (sent is not None and str(sent) == str(parsed)):
        return []
    numbers = (int, float, Decimal)
    if isinstance(sent, numbers) and isinstance(parsed, numbers) and Decimal(str(sent)) == Decimal(str(parsed)):
        return []
    return [f"{where}: sent {sent!r}, parsed {parsed!r}"]


def test_payment_methods_list_sofort_in_multisafepays_shape(server: LiveServer, sdk: Sdk) -> None:
    manager = sdk.get_payment_method_manager()
    listed = manager.get_payment_methods()
    sent = raw(server, "json/payment-methods")
    assert [m.id for m in listed.get_data()] == ["DIRECTBANK"] and len(sent) == 1
    assert lost(sent, [m.dict() for m in listed.get_data()]) == []
    method = sent[0]
    assert method["allowed_currencies"] == ["EUR"] and method["allowed_amount"] == {"max": None, "min": 10}
    assert set(method["allowed_countries"]) == {"AT", "BE", "CH", "DE", "ES", "IT", "PL"}
    assert method["type"] == "payment-method" and method["name"] == "Sofort"
    icon = httpx.get(method["icon_urls"]["vector"])
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    one = manager.get_by_gateway_code("DIRECTBANK")
    assert lost(raw(server, "json/payment-methods/DIRECTBANK"), one.get_data().dict()) == []
    for filters in ({"country": "NL"}, {"currency": "CHF"}, {"amount": "9"}):
        assert manager.get_payment_methods(options=filters).get_data() == []
    assert [m.id for m in manager.get_payment_methods(options={"country": "AT", "amount": "1000"}).get_data()] == [
        "DIRECTBANK"
    ]
    with pytest.raises(requests.HTTPError) as caught:
        manager.get_by_gateway_code("IDEAL")
    assert caught.value.response.status_code == 404 and caught.value.response.json()["error_code"] == 1023


def test_gateways_list_sofort(server: LiveServer, sdk: Sdk) -> None:
    manager = sdk.get_gateway_manager()
    listed = manager.get_gateways()
    assert [(g.id, g.description) for g in listed.get_data()] == [("DIRECTBANK", "SOFORT Banking")]
    assert lost(raw(server, "json/gateways"), [g.dict() for g in listed.get_data()]) == []
    assert lost(raw(server, "json/gateways/DIRECTBANK"), manager.get_by_code("DIRECTBANK").get_data().dict()) == []
    assert httpx.get(f"{server.url}/multisafepay/v1/json/gateways").status_code == 401


def _cart() -> tuple[ShoppingCart, CheckoutOptions]:
    cart = ShoppingCart().add_items([
        CartItem().add_name("Buch").add_merchant_item_id("book-1").add_quantity(2).add_unit_price(10)
        .add_tax_rate_percentage(7),
        CartItem().add_name("Tasse").add_merchant_item_id("cup-1").add_quantity(1).add_unit_price(8.40)
        .add_tax_rate_percentage(19),
    ])  # fmt: skip
    return cart, CheckoutOptions.generate_from_shopping_cart(cart)


def _paid_cart_order(om: OrderManager, order_id: str) -> OrderRequest:
    cart, options = _cart()
    customer = (
        Customer().add_locale("de_DE").add_first_name("Jörg").add_last_name("Kunde").add_address1("Hauptstr.")
        .add_house_number("5").add_zip_code("10115").add_city("Berlin").add_country("DE").add_phone("030 1234")
        .add_email("joerg@example.com").add_ip_address("203.0.113.9").add_user_agent("Firefox")
    )  # fmt: skip
    # 2 x 10.00 + 7 % and 1 x 8.40 + 19 %: 21.40 + 9.996 = 31.40 EUR
    request = order_request(order_id, 3140, shop=SHOP).add_customer(customer)
    request = request.add_shopping_cart(cart).add_checkout_options(options).add_var1("v1")
    act_on_bank_page(om.create(request).get_data().payment_url)
    return request


def test_an_order_with_a_cart_is_answered_whole_and_refunded_by_item(server: LiveServer, om: OrderManager) -> None:
    request = _paid_cart_order(om, "cart-1")
    order = om.get("cart-1").get_data()
    sent = raw(server, "json/orders/cart-1")
    assert lost(sent, order.dict()) == [
        # The SDK's response model reads the tax tables at the top level of checkout_options; MultiSafepay
        # (and Kasse) answer them as they are sent, under tax_tables (docs/multisafepay.md).
        ".checkout_options.tax_tables: Ellipsis"
    ]
    assert sent["shopping_cart"] == request.to_dict()["shopping_cart"] | {"items": sent["shopping_cart"]["items"]}
    assert [i["merchant_item_id"] for i in sent["shopping_cart"]["items"]] == ["book-1", "cup-1"]
    assert sent["checkout_options"]["tax_tables"]["alternate"]
    assert sent["order_adjustment"] == {"total_adjustment": 0.0, "total_tax": 3.0}

    refund = om.refund_by_item(order, "book-1", 1)  # one book: 10.00 + 7 % = 10.70 EUR
    assert refund.get_body_success() is True and refund.get_data().transaction_id.isdigit()
    after = om.get("cart-1").get_data()
    assert after.amount_refunded == 1070 and after.status == "partial_refunded"
    lines = [(i.merchant_item_id, i.quantity, i.unit_price) for i in after.shopping_cart.items]
    assert lines == [("book-1", 2, 10), ("cup-1", 1, Decimal("8.4")), ("book-1", 1, -10)]
    advance(server, 300)  # the SDK sends the order's amount each time: not a duplicate after 5 minutes
    om.refund_by_item(after, "cup-1")  # the whole line: 8.40 + 19 % = 10.00 EUR (9.996)
    final = om.get("cart-1").get_data()
    assert final.amount_refunded == 2070
    assert [(t.amount, t.type) for t in final.related_transactions] == [(1070, "refund"), (1000, "refund")]
    assert (
        lost(raw(server, "json/orders/cart-1")["related_transactions"], [t.dict() for t in final.related_transactions])
        == []
    )


def test_a_refund_by_item_needs_a_cart_and_a_line_going_back(server: LiveServer, om: OrderManager) -> None:
    act_on_bank_page(om.create(order_request("no-cart", 1000, shop=SHOP)).get_data().payment_url)
    body = {"amount": 1000, "checkout_data": {"items": [{"unit_price": -5, "quantity": 1, "merchant_item_id": "x"}]}}
    answer = _post(server, "json/orders/no-cart/refunds", body)
    assert (answer.status_code, answer.json()["error_code"]) == (400, 1034)
    _paid_cart_order(om, "cart-2")
    same = raw(server, "json/orders/cart-2")["shopping_cart"]
    answer = _post(server, "json/orders/cart-2/refunds", {"amount": 3140, "checkout_data": same})
    assert (answer.status_code, answer.json()["error_code"]) == (400, 1034)
    assert raw(server, "json/orders/cart-2")["amount_refunded"] == 0


def test_the_order_object_in_multisafepays_shape(server: LiveServer, om: OrderManager) -> None:
    _paid_cart_order(om, "shape")
    sent = raw(server, "json/orders/shape")
    assert sent["customer"] == {
        "address1": "Hauptstr.", "address2": None, "city": "Berlin", "cocnumber": None, "company_name": None,
        "country": "DE", "country_name": "Germany", "email": "joerg@example.com", "first_name": "Jörg",
        "house_number": "5", "last_name": "Kunde", "locale": "de_DE", "phone1": "030 1234", "phone2": None,
        "state": None, "zip_code": "10115",
    }  # fmt: skip
    details = sent["payment_details"]
    assert details["account_iban"] == details["account_id"] == "*** 3000"
    assert sent["payment_methods"][0]["account_id"] == "*** 3000"
    assert (
        "DE89370400440532013000"
        not in httpx.get(f"{server.url}/multisafepay/v1/json/orders/shape", headers={"api_key": API_KEY}).text
    )
    assert sent["reason"] == "SUCCESS" and sent["reason_code"] is None
    assert [(c["type"], c["amount"], c["transaction_id"]) for c in sent["costs"]] == [
        ("SYSTEM", 0.0, sent["transaction_id"])
    ]
    assert sent["completed"] is not None and sent["related_transactions"] is None


def test_completed_stays_and_modified_moves_when_a_refund_completes(server: LiveServer, om: OrderManager) -> None:
    act_on_bank_page(om.create(order_request("times", 5000, shop=SHOP)).get_data().payment_url)
    paid = raw(server, "json/orders/times")
    advance(server, 600)
    _post(server, "json/orders/times/refunds", {"amount": 1000, "currency": "EUR"})
    refunded = raw(server, "json/orders/times")
    advance(server, 3600)  # the refund completes
    done = raw(server, "json/orders/times")
    assert paid["completed"] == refunded["completed"] == done["completed"]
    assert paid["modified"] < refunded["modified"] < done["modified"]
    related = done["related_transactions"][0]
    assert set(related) == {
        "amount", "costs", "created", "currency", "description", "modified", "order_id", "refund_order_id",
        "status", "transaction_id", "type",
    }  # fmt: skip
    assert (related["status"], related["modified"]) == ("completed", done["modified"])


def test_a_second_refund_of_the_same_amount_within_5_minutes_is_refused(server: LiveServer, om: OrderManager) -> None:
    act_on_bank_page(om.create(order_request("twice", 5000, shop=SHOP)).get_data().payment_url)
    assert _post(server, "json/orders/twice/refunds", {"amount": 1000}).status_code == 200
    advance(server, 290)
    again = _post(server, "json/orders/twice/refunds", {"amount": 1000})
    assert again.status_code == 400
    assert again.json() == {
        "success": False, "data": {}, "error_code": 1034,
        "error_info": "Cannot refund transaction: a refund of the same amount was made less than 5 minutes ago",
    }  # fmt: skip
    assert _post(server, "json/orders/twice/refunds", {"amount": 1500}).status_code == 200  # another amount
    advance(server, 10)
    assert _post(server, "json/orders/twice/refunds", {"amount": 1000}).status_code == 200
    assert raw(server, "json/orders/twice")["amount_refunded"] == 3500


def _post(server: LiveServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.url}/multisafepay/v1/{path}", json=body, headers={"api_key": API_KEY})


def _order(order_id: Any, amount: Any, **extra: Any) -> dict[str, Any]:
    return {
        "type": "redirect", "gateway": "DIRECTBANK", "order_id": order_id, "currency": "EUR", "amount": amount,
        "description": "lenient", "customer": {"country": "DE"}, **extra,
    }  # fmt: skip


@pytest.mark.parametrize(("order_id", "amount"), [("float", 1000.0), ("text", "1000"), (12345, 1000), ("f2", 1e3)])
def test_integral_numbers_in_any_form_are_accepted(server: LiveServer, order_id: Any, amount: Any) -> None:
    created = _post(server, "json/orders", _order(order_id, amount, var1=7, var2=2.0, var3="x", days_active="30"))
    assert created.status_code == 200, created.text
    order = raw(server, f"json/orders/{order_id}")
    assert (order["order_id"], order["amount"]) == (str(order_id), 1000)
    assert (order["var1"], order["var2"], order["var3"]) == ("7", "2", "x")
    act_on_bank_page(created.json()["data"]["payment_url"])
    assert _post(server, f"json/orders/{order_id}/refunds", {"amount": 100.0}).status_code == 200
    assert _post(server, f"json/orders/{order_id}/refunds", {"amount": "200"}).status_code == 200
    assert raw(server, f"json/orders/{order_id}")["amount_refunded"] == 300


@pytest.mark.parametrize("amount", [1000.5, "1000.5", "1e400", "1e999999999", 1e300, "ten", True, None, [1000]])
def test_a_fraction_of_a_cent_or_no_number_is_refused(server: LiveServer, amount: Any) -> None:
    created = _post(server, "json/orders", _order("bad", amount))
    assert created.status_code == 400
    assert created.json()["error_code"] == 1001
    assert created.json()["error_info"].startswith("Invalid amount")
    assert httpx.get(f"{server.url}/multisafepay/v1/json/orders/bad", headers={"api_key": API_KEY}).status_code == 404


def test_a_refund_of_a_fraction_of_a_cent_is_refused(server: LiveServer) -> None:
    act_on_bank_page(_post(server, "json/orders", _order("paid", 1000)).json()["data"]["payment_url"])
    answer = _post(server, "json/orders/paid/refunds", {"amount": 10.5})
    assert (answer.status_code, answer.json()["error_code"]) == (400, 1001)
    assert raw(server, "json/orders/paid")["amount_refunded"] == 0


def test_error_info_names_no_kasse_id_and_no_engine_state(server: LiveServer) -> None:
    _post(server, "json/orders", _order("open", 1000))
    cancel = {"url": f"{server.url}/multisafepay/v1/json/orders/open", "json": {"status": "cancelled"}}
    unpaid = _post(server, "json/orders/open/refunds", {"amount": 100})
    first = httpx.patch(**cancel, headers={"api_key": API_KEY})
    again = httpx.patch(**cancel, headers={"api_key": API_KEY})  # already void
    assert first.status_code == 200
    infos = [unpaid.json()["error_info"], again.json()["error_info"]]
    assert infos == [
        "Cannot refund transaction: the order has not been paid",
        "Unknown error: the order cannot be changed in its current status",
    ]
    for info in infos:
        assert "pay_" not in info and "requires_action" not in info and "canceled" not in info


def test_a_redirect_order_without_gateway_lets_the_customer_choose_sofort(server: LiveServer, om: OrderManager) -> None:
    created = _post(server, "json/orders", {k: v for k, v in _order("choice", 2000).items() if k != "gateway"})
    assert created.status_code == 200, created.text
    payment_url = created.json()["data"]["payment_url"]
    page = httpx.get(payment_url)
    assert page.status_code == 200 and 'data-testid="method-DIRECTBANK"' in page.text
    before = om.get("choice").get_data()
    assert before.payment_details.type is None and before.status == "initialized"
    act_on_bank_page(payment_url)
    after = om.get("choice").get_data()
    assert (after.status, after.payment_details.type, after.payment_methods[0].type) == (
        "completed",
        "DIRECTBANK",
        "DIRECTBANK",
    )
    direct = _post(server, "json/orders", {**_order("direct-no-gw", 2000, type="direct"), "gateway": None})
    assert (direct.status_code, direct.json()["error_code"]) == (400, 1023)


def test_extended_day_count_is_the_merchants_clock(server: LiveServer, om: OrderManager) -> None:
    """Sofort's day starts when the customer goes on from the page (the merchant's clock), once."""
    created = om.create(order_request("once", 1000, shop=SHOP, days_active=5)).get_data()
    start = httpx.get(httpx.URL(created.payment_url).join(f"{created.session_id}/start?gateway=DIRECTBANK"))
    assert start.status_code == 303 and start.headers["location"] == f"../../../pay/{created.session_id}"
    advance(server, DAY_S // 2)
    httpx.get(httpx.URL(created.payment_url).join(f"{created.session_id}/start?gateway=DIRECTBANK"))  # again
    advance(server, DAY_S // 2)
    assert om.get("once").get_data().status == "expired"


def test_every_order_answer_parses_into_the_sdks_models_without_loss(server: LiveServer, om: OrderManager) -> None:
    answers: list[tuple[Any, Any]] = []
    redirect = _post(server, "json/orders", _order("r-1", 5000, var1=1, custom_info={"custom_1": "a"}))
    direct = _post(
        server,
        "json/orders",
        _order(
            "d-1",
            5000,
            type="direct",
            gateway_info={
                "account_holder_name": "Max",
                "account_holder_iban": "DE89370400440532013000",
                "account_holder_bic": "X",
            },
        ),
    )
    answers += [(redirect.json()["data"], Order), (direct.json()["data"], Order)]
    act_on_bank_page(redirect.json()["data"]["payment_url"])
    refund = _post(server, "json/orders/r-1/refunds", {"amount": 1000, "description": "part"})
    answers.append((refund.json()["data"], OrderRefund))
    _post(server, "json/orders", _order("v-1", 5000))
    httpx.patch(f"{server.url}/multisafepay/v1/json/orders/v-1", json={"status": "cancelled", "reason": "stock"},
                headers={"api_key": API_KEY})  # fmt: skip
    advance(server, 3600)
    for order_id in ("r-1", "d-1", "v-1"):
        answers.append((raw(server, f"json/orders/{order_id}"), Order))
    for sent, model in answers:
        assert lost(sent, model.from_dict(dict(sent)).dict()) == [], sent
    assert answers[1][0]["payment_details"]["account_iban"] == "*** 3000"


@pytest.mark.parametrize(
    ("line", "code"),
    [({"unit_price": "ten", "quantity": 1}, 1031), ({"unit_price": 1, "quantity": "1e999999999"}, 1016)],
)
def test_a_malformed_cart_line_is_refused(server: LiveServer, line: dict[str, Any], code: int) -> None:
    answer = _post(server, "json/orders", _order("bad-cart", 1000, shopping_cart={"items": [line]}))
    assert (answer.status_code, answer.json()["error_code"]) == (400, code)
    assert (
        httpx.get(f"{server.url}/multisafepay/v1/json/orders/bad-cart", headers={"api_key": API_KEY}).status_code == 404
    )
