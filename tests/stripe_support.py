"""Fixtures for the Stripe dialect tests: a live Kasse on either database with its workers running, the
official ``stripe`` package pointed at it (``api_base`` is the only change), and a shop that records
the webhooks it receives and verifies them with ``stripe.Webhook.construct_event``."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest
import stripe

from kasse.config import Settings
from kasse.dialects.registry import hooks
from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from kasse.web.app import create_app
from tests.conftest import AUTH, LiveServer
from tests.helpers import ShopPage, assert_ledger_invariants

T = TypeVar("T")
DAY_S = 86_400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveKasse:
    url: str
    kasse: Kasse
    api: httpx.Client

    def advance(self, seconds: float) -> dict[str, Any]:
        r = self.api.post("/_sandbox/clock/advance", json={"seconds": seconds})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        # The server's own scheduler runs too; on PostgreSQL a timer it has claimed is skipped by the
        # advance and fires when the scheduler commits a moment later. Wait for that moment.
        until = datetime.fromisoformat(body["now"].replace("Z", "+00:00"))

        def settled() -> bool:
            with self.kasse.read() as store:
                return store.count_due_timers(merchant_id=SANDBOX.id, until=until) == 0

        wait(settled, timeout_s=10)
        return body

    def now(self) -> datetime:
        return datetime.fromisoformat(self.api.get("/_sandbox/clock").json()["now"].replace("Z", "+00:00"))

    def check_ledger(self) -> None:
        with self.kasse.read() as store:
            assert_ledger_invariants(store, SANDBOX.id)


def _serve(database: Database) -> Iterator[LiveKasse]:
    port = free_port()
    kasse = Kasse(database, hooks=hooks())
    ensure_sandbox_merchant(kasse)
    settings = Settings(database_url=database.url, port=port, run_workers=True, scheduler_interval_s=0.1)
    with (
        LiveServer(create_app(settings, kasse=kasse), port) as server,
        httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as api,
    ):
        yield LiveKasse(server.url, kasse, api)


@pytest.fixture
def server(database: Database) -> Iterator[LiveKasse]:
    """A live server on SQLite and, in a second run, on PostgreSQL."""
    yield from _serve(database)


@pytest.fixture
def sqlite_server(sqlite_database: Database) -> Iterator[LiveKasse]:
    yield from _serve(sqlite_database)


def _point_sdk(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    # The only change a shop makes (plus no retries, so a refused request fails at once).
    monkeypatch.setattr(stripe, "api_key", SANDBOX.secret_key)
    monkeypatch.setattr(stripe, "api_base", f"{url}/stripe")
    monkeypatch.setattr(stripe, "max_network_retries", 0)


@pytest.fixture
def sdk(server: LiveKasse, monkeypatch: pytest.MonkeyPatch) -> LiveKasse:
    _point_sdk(monkeypatch, server.url)
    return server


@pytest.fixture
def sqlite_sdk(sqlite_server: LiveKasse, monkeypatch: pytest.MonkeyPatch) -> LiveKasse:
    _point_sdk(monkeypatch, sqlite_server.url)
    return sqlite_server


def client(server: LiveKasse) -> stripe.StripeClient:
    return stripe.StripeClient(
        SANDBOX.secret_key, base_addresses={"api": f"{server.url}/stripe"}, max_network_retries=0
    )


@dataclass
class Shop:
    """The shop's web server: its return page, and its webhook handler."""

    url: str
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    secret: str = ""

    def events(self) -> list[stripe.Event]:
        """Every webhook received so far, verified exactly as a shop verifies them."""
        return [
            stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"], self.secret)
            for body, headers in list(self.received)
        ]

    def types(self) -> list[str]:
        return [e.type for e in self.events()]

    def wait_for(self, *types: str, timeout_s: float = 10) -> list[stripe.Event]:
        return wait(lambda: [e for e in self.events() if e.type in types] or None, timeout_s=timeout_s)


@pytest.fixture
def shop() -> Iterator[Shop]:
    port = free_port()
    state = Shop(f"http://127.0.0.1:{port}")

    class Handler(ShopPage):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            state.received.append((body, {k.lower(): v for k, v in self.headers.items()}))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def listen(shop: Shop, events: list[str] | None = None) -> stripe.WebhookEndpoint:
    endpoint = stripe.WebhookEndpoint.create(url=f"{shop.url}/stripe/webhook", enabled_events=events or ["*"])
    shop.secret = endpoint.secret
    return endpoint


def wait(probe: Callable[[], T | None], *, timeout_s: float = 10) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s")
        time.sleep(0.05)


def new_source(shop_url: str = "https://shop.example/return?order=42", **fields: Any) -> stripe.Source:
    params: dict[str, Any] = {
        "type": "sofort", "amount": 1099, "currency": "eur", "redirect": {"return_url": shop_url},
        "sofort": {"country": "DE", "preferred_language": "de"}, "statement_descriptor": "ORDER AT11990",
        "owner": {"email": "jenny@example.com", "name": "Jenny Rosen"}, "metadata": {"order": "42"}, **fields,
    }  # fmt: skip
    return stripe.Source.create(**params)


def chargeable_source(server: LiveKasse, **fields: Any) -> stripe.Source:
    """The seed's magic email: chargeable a few seconds after creation, no browser."""
    owner = {"email": "order42_chargeable@example.com", "name": "Jenny Rosen", **fields.pop("owner", {})}
    src = new_source(owner=owner, **fields)
    assert src.status == "pending"
    server.advance(5)
    src = stripe.Source.retrieve(src.id)
    assert src.status == "chargeable"
    return src


def charge(src: stripe.Source, **fields: Any) -> stripe.Charge:
    return stripe.Charge.create(amount=src.amount, currency="eur", source=src.id, **fields)


def body_of(event: stripe.Event) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(event.to_dict()))
    return data


@dataclass
class Recorded:
    """Every answer the stripe package received: (method, url, status, body)."""

    answers: list[tuple[str, str, int, str]] = field(default_factory=list)

    def ok_bodies(self) -> list[tuple[str, Any]]:
        return [(f"{m} {u}", json.loads(b)) for m, u, s, b in self.answers if s < 300]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    """The stripe package's HTTP client, recording each answer it hands back to the SDK."""
    log = Recorded()
    base = stripe.new_default_http_client()

    class Recording(type(base)):  # type: ignore[misc]
        def request(self, method: str, url: str, headers: Any, post_data: Any = None, **kw: Any) -> Any:
            content, status, rheaders = super().request(method, url, headers, post_data, **kw)
            log.answers.append((method.upper(), url, status, content))
            return content, status, rheaders

    monkeypatch.setattr(stripe, "default_http_client", Recording())
    return log
