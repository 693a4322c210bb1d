"""Helpers of the MultiSafepay dialect tests: a live Kasse per database, the official SDK pointed at it,
a shop's notification receiver, and the bank page's form driven over HTTP for tests without a browser."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from kasse.config import Settings
from kasse.dialects.registry import hooks
from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from kasse.web.app import create_app
from tests import msp_sdk
from tests.conftest import AUTH, LiveServer

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

__all__ = ["OrderManager", "RefundOrderRequest", "UpdateOrderRequest", "Webhook"]

API_KEY = SANDBOX.msp_api_key
DAY_S = 86_400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def live_kasse(database: Database) -> LiveServer:
    """A real uvicorn on ``database`` with the real wall clock and the workers running."""
    port = free_port()
    kasse = Kasse(database, hooks=hooks())
    ensure_sandbox_merchant(kasse)
    settings = Settings(database_url=database.url, port=port, run_workers=True, scheduler_interval_s=0.2)
    return LiveServer(create_app(settings, kasse=kasse), port)


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


def advance(server: LiveServer, seconds: float) -> dict[str, Any]:
    r = httpx.post(f"{server.url}/_sandbox/clock/advance", json={"seconds": seconds}, headers=AUTH, timeout=30)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def wait_until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def recorded_attempts(server: LiveServer) -> int:
    """Notification attempts Kasse has recorded (the receiver sees a request before it is recorded)."""
    events = httpx.get(f"{server.url}/api/v1/events", params={"limit": 100}, headers=AUTH).json()["data"]
    total = 0
    for event in events:
        if event["type"].startswith("multisafepay:"):
            url = f"{server.url}/api/v1/events/{event['id']}/deliveries"
            total += sum(d["attempt_count"] for d in httpx.get(url, headers=AUTH).json()["data"])
    return total


def bank_page(payment_url: str) -> str:
    """The bank page URL behind a payment URL (the MultiSafepay page's continue button, or itself)."""
    if "/multisafepay/pay/" not in payment_url:
        return payment_url
    page = httpx.get(payment_url, timeout=10)
    assert page.status_code == 200, page.text
    href = re.search(r'href="([^"]+)" data-testid="continue"', page.text)
    assert href is not None, page.text
    return str(httpx.URL(payment_url).join(href.group(1)))


def act_on_bank_page(payment_url: str, action: str = "approve") -> httpx.Response:
    """What the customer's click does, over plain HTTP (the browser tests click for real)."""
    url = bank_page(payment_url)
    with httpx.Client(timeout=10) as client:
        page = client.get(url)
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        return client.post(url, data={"action": action, "csrf": csrf.group(1), "lang": "de"})


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
