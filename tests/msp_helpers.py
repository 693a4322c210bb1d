"""Helpers of the MultiSafepay dialect tests: a live Kasse per database, the official SDK pointed at it,
a shop's notification receiver, and the bank page's form driven over HTTP for tests without a browser."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from kasse.engine.merchants import SANDBOX
from tests import msp_sdk
from tests.conftest import LiveServer
from tests.live import advance, free_port, live_kasse, wait_until
from tests.live import recorded_attempts as _recorded

msp_sdk.load()

from multisafepay import Sdk  # noqa: E402
from multisafepay.api.paths.orders.order_id.refund.request import RefundOrderRequest  # noqa: E402
from multisafepay.api.paths.orders.order_id.update.request import UpdateOrderRequest  # noqa: E402
from multisafepay.api.paths.orders.order_manager import OrderManager  # noqa: E402
from multisafepay.api.paths.orders.request import OrderRequest  # noqa: E402
from multisafepay.api.paths.orders.request.components import PaymentOptions  # noqa: E402
from multisafepay.api.shared import Customer, Description  # noqa: E402
from multisafepay.util import Webhook  # noqa: E402
from multisafepay.value_object import Amount, Country, Currency, EmailAddress  # noqa: E402

__all__ = [
    "OrderManager", "RefundOrderRequest", "UpdateOrderRequest", "Webhook", "advance", "free_port", "live_kasse",
    "wait_until",
]  # fmt: skip

API_KEY = SANDBOX.msp_api_key
DAY_S = 86_400


def orders(server: LiveServer, api_key: str = API_KEY) -> OrderManager:
    """The SDK exactly as a shop uses it; only the base URL differs from MultiSafepay's test API."""
    sdk = Sdk(api_key=api_key, is_production=False, base_url=f"{server.url}/multisafepay/v1/")
    manager: OrderManager = sdk.get_order_manager()
    return manager


def order_request(
    order_id: str, amount: int, *, shop: str, kind: str = "redirect", country: str = "DE",
    notify: str | None = None, method: str = "POST", **extra: Any,
) -> OrderRequest:  # fmt: skip
    options = (
        PaymentOptions().add_redirect_url(f"{shop}/ok?shop=1").add_cancel_url(f"{shop}/cancel")
    )  # fmt: skip
    if notify is not None:
        options = options.add_notification_url(notify).add_notification_method(method)
    request = (
        OrderRequest().add_type(kind).add_gateway("DIRECTBANK").add_order_id(order_id)
        .add_currency(Currency(currency="EUR")).add_amount(Amount(amount=amount))
        .add_description(Description(description=f"Order {order_id}")).add_payment_options(options)
        .add_customer(Customer().add_locale("de_DE").add_email(EmailAddress(email_address="kunde@example.com"))
                      .add_country(Country(code=country)))
    )  # fmt: skip
    for name, value in extra.items():
        request = getattr(request, f"add_{name}")(value)
    return request


def bank_page(payment_url: str) -> str:
    """Where the MultiSafepay page's continue button goes (Sofort chosen if there is a choice), or the
    payment URL itself for a direct order. Going there starts Sofort and redirects to the bank page."""
    if "/multisafepay/pay/" not in payment_url:
        return payment_url
    page = httpx.get(payment_url, timeout=10)
    assert page.status_code == 200, page.text
    href = re.search(r'href="([^"]+)" data-testid="continue"', page.text)
    if href is not None:
        return str(httpx.URL(payment_url).join(href.group(1).replace("&amp;", "&")))
    form = re.search(r'<form method="get" action="([^"]+)" class="form" data-testid="choose-method">', page.text)
    assert form is not None, page.text
    return str(httpx.URL(payment_url).join(form.group(1)).copy_set_param("gateway", "DIRECTBANK"))


def act_on_bank_page(payment_url: str, action: str = "approve") -> httpx.Response:
    """What the customer's clicks do, over plain HTTP (the browser tests click for real)."""
    with httpx.Client(timeout=10, follow_redirects=True) as client:
        page = client.get(bank_page(payment_url))
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        return client.post(page.url, data={"action": action, "csrf": csrf.group(1), "lang": "de"},
                           follow_redirects=False)  # fmt: skip


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    """A shop's notification endpoint; ``answer`` is what it replies (``OK`` acknowledges)."""

    answer: str = "OK"
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def start(self) -> Iterator[Receiver]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                owner.received.append(Received(self.command, self.path, dict(self.headers.items()), body))
                reply = owner.answer.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_POST = do_GET = _record

            def log_message(self, *args: object) -> None:
                pass

        port = free_port()
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{port}/notify"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def recorded_attempts(server: LiveServer) -> int:
    return _recorded(server, "multisafepay")
