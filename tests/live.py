"""A live Kasse for the provider dialects' end-to-end tests: a real uvicorn on a free loopback port with
every dialect, the real wall clock and the workers running, and what those tests do with it."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import httpx

from kasse.config import Settings
from kasse.dialects.registry import hooks
from kasse.engine.merchants import ensure_sandbox_merchant
from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from kasse.web.app import create_app
from tests.conftest import AUTH, LiveServer

__all__ = ["advance", "free_port", "kasse_of", "live_kasse", "recorded_attempts", "wait_until"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def live_kasse(database: Database) -> LiveServer:
    """A real uvicorn on ``database`` (not started: use it as a context manager)."""
    port = free_port()
    kasse = Kasse(database, hooks=hooks())
    ensure_sandbox_merchant(kasse)
    settings = Settings(database_url=database.url, port=port, run_workers=True, scheduler_interval_s=0.2)
    return LiveServer(create_app(settings, kasse=kasse), port)


def kasse_of(server: LiveServer) -> Kasse:
    """The engine behind a live server, for a test that counts rows."""
    kasse: Kasse = server.app.state.kasse
    return kasse


def advance(server: LiveServer, seconds: float) -> dict[str, Any]:
    """Move the sandbox merchant's clock; every timer due by then has fired when this returns."""
    r = httpx.post(f"{server.url}/_sandbox/clock/advance", json={"seconds": seconds}, headers=AUTH, timeout=60)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def wait_until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def recorded_attempts(server: LiveServer, dialect: str) -> int:
    """Notification attempts Kasse has recorded for ``dialect``'s events (a receiver sees a request
    before it is recorded)."""
    events = httpx.get(f"{server.url}/api/v1/events", params={"limit": 100}, headers=AUTH).json()["data"]
    total = 0
    for event in events:
        if event["type"].startswith(f"{dialect}:"):
            url = f"{server.url}/api/v1/events/{event['id']}/deliveries"
            total += sum(d["attempt_count"] for d in httpx.get(url, headers=AUTH).json()["data"])
    return total
