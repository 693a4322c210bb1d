"""Clock advances and webhook deliveries (issue 10): an advance waits for a delivery the background
worker is sending, so every retry due in its window happens, each dated at its own due time; the
attempts of one retry round go out together; an advance that outlives the server's budget answers
``202`` with a status resource and runs to its end."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kasse.config import Settings
from kasse.engine.unit import Kasse
from kasse.web.app import create_app
from tests.conftest import AUTH
from tests.helpers import FakeWall

SOFORT = {"amount": 1000, "currency": "EUR", "method": "sofort", "return_url": "https://shop.example/r"}


class SlowReceiver:
    """Answers every request with 500 after ``delay_s``: a receiver that is slow and failing."""

    def __init__(self, delay_s: float) -> None:
        self.arrived = threading.Event()
        self.count = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                receiver.count += 1
                receiver.arrived.set()
                time.sleep(delay_s)
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"boom")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow() -> Iterator[SlowReceiver]:
    receiver = SlowReceiver(1.0)
    yield receiver
    receiver.close()


def _setup(client: TestClient, url: str, schedule: list[int]) -> None:
    r = client.post("/api/v1/webhook_endpoints", json={"url": url, "enabled_events": ["payment.created"]}, headers=AUTH)
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/webhook_settings", json={"timeout_seconds": 5, "retry_schedule": schedule}, headers=AUTH)
    assert r.status_code == 200, r.text


def _attempt_times(kasse: Kasse, merchant_id: str) -> dict[str, list[datetime]]:
    """Each payment.created event's creation time → when each attempt of its delivery was dated."""
    with kasse.read() as store:
        events = store.list_events(merchant_id=merchant_id, limit=100).items
        out = {}
        for event in events:
            (delivery,) = store.deliveries_of_event(merchant_id=merchant_id, event_id=event.id)
            attempts = store.attempts_of(merchant_id=merchant_id, delivery_id=delivery.id)
            out[event.created_at.isoformat()] = [a["attempted_at"] for a in attempts]
    return out


def test_an_advance_waits_for_the_delivery_the_worker_is_sending(
    app: FastAPI, kasse: Kasse, merchant_id: str, slow: SlowReceiver
) -> None:
    """The worker's pass claimed the first attempt just before the advance: the advance waits for it to
    be recorded (dated before the move), then makes the two retries due in its window at +10 s and +30 s."""
    with TestClient(app) as client:
        _setup(client, slow.url, [10, 20, 30])
        client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
        worker = threading.Thread(target=app.state.deliverer.run_once)
        worker.start()
        assert slow.arrived.wait(10)  # the worker holds the delivery's lease, its receiver is thinking
        r = client.post("/_sandbox/clock/advance", json={"seconds": 40}, headers=AUTH)
        worker.join(10)
        assert r.status_code == 200, r.text
        assert r.json()["delivery_attempts"] == 2
    ((created, times),) = _attempt_times(kasse, merchant_id).items()
    start = datetime.fromisoformat(created)
    assert times == [start, start + timedelta(seconds=10), start + timedelta(seconds=30)]
    assert slow.count == 3


def test_a_retry_round_goes_out_together_each_dated_at_its_due_time(
    client: TestClient, kasse: Kasse, merchant_id: str, wall: FakeWall
) -> None:
    with SlowReceiverFast() as receiver:
        _setup(client, receiver.url, [60, 300])
        for _ in range(20):
            client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
            wall.tick(1)  # each first attempt due a second after the one before
        r = client.post("/_sandbox/clock/advance", json={"seconds": 400}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json()["delivery_attempts"] == 20 * 3
    for created, times in _attempt_times(kasse, merchant_id).items():
        start = datetime.fromisoformat(created)
        assert times == [start, start + timedelta(seconds=60), start + timedelta(seconds=360)]


class SlowReceiverFast(SlowReceiver):
    def __init__(self) -> None:
        super().__init__(0.0)

    def __enter__(self) -> SlowReceiverFast:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_an_advance_longer_than_the_budget_answers_202_and_finishes(
    kasse: Kasse, merchant_id: str, slow: SlowReceiver
) -> None:
    app = create_app(Settings(database_url=kasse.db.url, run_workers=False, advance_sync_s=0.3), kasse=kasse)
    with TestClient(app) as client:
        _setup(client, slow.url, [10, 20])
        client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
        headers = {**AUTH, "Idempotency-Key": "long-one"}
        r = client.post("/_sandbox/clock/advance", json={"seconds": 60}, headers=headers)
        assert r.status_code == 202, r.text
        run = r.json()
        assert run["object"] == "clock_advance" and run["status"] == "running"
        assert r.headers["location"] == run["url"] == f"/_sandbox/clock/advances/{run['id']}"
        deadline = time.monotonic() + 15
        while (status := client.get(run["url"], headers=AUTH).json())["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert status["status"] == "succeeded", status
        assert status["result"]["delivery_attempts"] == 3
        assert status["result"]["offset_seconds"] == 60
        # The key now replays the advance's answer: no second move.
        again = client.post("/_sandbox/clock/advance", json={"seconds": 60}, headers=headers)
        assert again.status_code == 200 and again.json() == status["result"]
        assert client.get("/_sandbox/clock", headers=AUTH).json()["offset_seconds"] == 60
        missing = client.get("/_sandbox/clock/advances/adv_nope", headers=AUTH)
        assert missing.status_code == 404 and missing.json()["error"]["code"]
