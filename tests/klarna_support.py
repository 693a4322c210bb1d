"""Helpers of the Klarna dialect tests. There is no Klarna client library for this API (clients.md §5), so
the tests drive it with httpx exactly as clients.md §7.5 and the public integrations do: Basic auth with
the API key, JSON bodies, the token headers. A live Kasse per database, with the registry's timer kinds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from kasse.dialects.registry import hooks
from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from tests.conftest import AUTH
from tests.live import free_port, live_kasse

ACCOUNT = SANDBOX.klarna_partner_account_id
API_KEY = SANDBOX.klarna_api_key
HEADERS = {"Authorization": f"Basic {API_KEY}", "Content-Type": "application/json"}
# What public clients send instead (a Paytrail demo, a browser demo): base64("<key>:").
HEADERS_B64 = {"Authorization": "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()}
DENIED = "customer+de+denied@klarna.com"
APPROVED = "customer+de@klarna.com"

__all__ = ["ACCOUNT", "API_KEY", "AUTH", "HEADERS", "Klarna", "klarna_kasse", "live_kasse", "verify"]


def klarna_kasse(database: Database, **kw: Any) -> Kasse:
    kasse = Kasse(database, hooks=hooks(), **kw)
    ensure_sandbox_merchant(kasse)
    return kasse


def verify(body: bytes, headers: dict[str, str], keys: dict[str, str]) -> bool:
    """What Klarna's partner plugins do (krokedil ``Notifications::validate_request``): the HMAC-SHA256 of
    the raw body with the key named in Klarna-Signing-Key-Id, as lowercase hex, against Klarna-Signature."""
    lowered = {k.lower(): v for k, v in headers.items()}
    key = keys.get(lowered.get("klarna-signing-key-id", ""))
    if key is None:
        return False
    expected = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, lowered.get("klarna-signature", ""))


class Klarna:
    """A partner's calls, with the host replaced: ``base`` is what ``https://api-global.test.klarna.com``
    becomes."""

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        self.base = f"{url}/klarna"
        self.http = client or httpx.Client(timeout=30)

    def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        merged = {**HEADERS, "Klarna-Idempotency-Key": str(uuid.uuid4()), **headers}
        return self.http.post(self.base + path, json=body, headers=merged)

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return self.http.request(method, self.base + path, json=body, headers={**HEADERS, **headers})

    def authorize(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        return self.post(f"/v2/accounts/{ACCOUNT}/payment/authorize", body, **headers)

    def step_up(self, amount: int, return_url: str, email: str = APPROVED, currency: str = "EUR") -> dict[str, Any]:
        body = {
            "currency": currency,
            "request_payment_transaction": {"amount": amount, "payment_transaction_reference": "ord-1"},
            "supplementary_purchase_data": {"customer": {"email": email}},
            "step_up_config": {
                "payment_request_reference": "pr-1",
                "customer_interaction_config": {"method": "HANDOVER", "return_url": return_url},
            },
        }
        r = self.authorize(body)
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        assert answer["payment_transaction_response"]["result"] == "STEP_UP_REQUIRED"
        return answer

    def approve(self, request_id: str, email: str | None = None) -> dict[str, Any]:
        url = self.base.removesuffix("/klarna") + f"/_sandbox/klarna/payment_requests/{request_id}/approve"
        r = self.http.post(url, json={"email": email} if email else {}, headers=AUTH)
        assert r.status_code == 200, r.text
        found: dict[str, Any] = r.json()
        return found


@dataclass
class Hook:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


@dataclass
class HookReceiver:
    """A partner's webhook endpoint on loopback; ``status`` is what it answers (2xx acknowledges)."""

    status: int = 200
    received: list[Hook] = field(default_factory=list)
    url: str = ""

    def start(self) -> Iterator[HookReceiver]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.received.append(Hook(dict(self.headers.items()), body))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}/klarna-hooks"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def of_type(self, event_type: str) -> list[Hook]:
        return [h for h in self.received if h.json["metadata"]["event_type"] == event_type]
