"""Helpers of the secuconnect dialect tests: a live Kasse per database, pretix-secuconnect's own API client
(``pretix_secuconnect.api_client``, unchanged) pointed at it, a shop's push receiver on loopback, and the
Sofort page's form driven over HTTP for tests without a browser."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from pretix_secuconnect.api_client import PaymentStatusSimple, SecuconnectAPIClient, SecuconnectException

from kasse.engine.merchants import SANDBOX
from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from tests import live
from tests.conftest import LiveServer
from tests.live import free_port, wait_until

__all__ = ["PaymentStatusSimple", "SecuconnectAPIClient", "SecuconnectException", "free_port", "wait_until"]

CLIENT_ID = SANDBOX.secuconnect_client_id
CLIENT_SECRET = SANDBOX.secuconnect_client_secret
DAY_S = 86_400


class DictCache(dict[str, Any]):
    """The cache pretix hands the client: ``get(key)`` and ``set(key, value, timeout)``."""

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        self[key] = value


def secuconnect(server: LiveServer, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> Any:
    """The client exactly as pretix builds it; only ``api_base_url`` differs from secuconnect's testing host."""
    client = SecuconnectAPIClient(cache=DictCache(), environment="testing", client_id=client_id,
                                  client_secret=client_secret)  # fmt: skip
    client.api_base_url = f"{server.url}/secuconnect"
    return client


def smart_body(shop: str, *, amount: int = 1000, push: str | None = None, **extra: Any) -> dict[str, Any]:
    """The Smart Transaction pretix-secuconnect sends (``_build_smart_transaction_init_body``)."""
    urls = {"url_success": f"{shop}/success", "url_error": f"{shop}/fail", "url_abort": f"{shop}/abort"}
    if push is not None:
        urls["url_push"] = push
    body = {
        "is_demo": True, "contract": {"id": "GCR_TEST"},
        "customer": {"contact": {"surname": "Kunde", "forename": "Test", "email": "kunde@example.com",
                                 "address": {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin",
                                             "country": "DE"}}},
        "intent": "sale", "basket": {"products": [{"id": 1, "desc": "Order ABC12 for Event", "priceOne": amount,
                                                   "quantity": 1, "tax": 0}]},
        "merchantRef": "EVENT-ABC12-P-1", "transactionRef": "EVENT-ABC12-P-1",
        "basket_info": {"sum": amount, "currency": "EUR"},
        "application_context": {"checkout_template": "COT_WD0DE66HN2XWJHW8JM88003YG0NEA2", "return_urls": urls},
        "payment_context": {"auto_capture": True},
    }  # fmt: skip
    body.update(extra)
    return body


def token(server: LiveServer, *, form: bool = False) -> str:
    data = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    url = f"{server.url}/secuconnect/oauth/token"
    r = httpx.post(url, data=data) if form else httpx.post(url, json=data)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def advance(server: LiveServer, seconds: float, *clients: Any) -> dict[str, Any]:
    """Move the merchant's clock. Tokens lapse on that clock; pretix caches its token for ``expires_in``
    seconds of its own time, which moves along in a real shop: the ``clients``' caches are emptied when
    the jump passes a token's lifetime, as the shop's cache would have expired by then."""
    if seconds >= 1200:
        for client in clients:
            client.cache.clear()
    return live.advance(server, seconds)


def act_on_sofort_page(url: str, action: str = "approve", account: str = "88888888") -> httpx.Response:
    """What the customer's click does, over plain HTTP (the browser tests click for real)."""
    with httpx.Client(timeout=10) as client:
        page = client.get(url)
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        return client.post(url, data={"action": action, "csrf": csrf.group(1), "lang": "de", "iban": account})


@dataclass
class Pushes:
    """A shop's push endpoint on loopback; ``status`` is what it answers (secuconnect wants 200)."""

    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def start(self) -> Iterator[Pushes]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.received.append(json.loads(self.rfile.read(length)))
                owner.headers.append(dict(self.headers.items()))
                self.send_response(owner.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        port = free_port()
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{port}/push?order=ABC12"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def live_kasse(database: Database) -> tuple[LiveServer, Kasse]:
    """A live Kasse (``tests.live``) and its engine, so a test can count rows."""
    server = live.live_kasse(database)
    return server, live.kasse_of(server)


def recorded_attempts(server: LiveServer) -> int:
    return live.recorded_attempts(server, "secuconnect")
