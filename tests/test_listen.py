"""Live events: ``GET /api/v1/events/stream`` (Server-Sent Events) against a real uvicorn, and ``kasse listen``
forwarding them, signed, to a real receiver that verifies them with the ``standardwebhooks`` package."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from kasse.cli.listen import ListenOptions, SseEvent, SseParser, listen
from kasse.cli.main import app
from kasse.delivery.signing import new_secret
from kasse.dialects.native import stream
from kasse.dialects.native.stream import StreamLimits, _Cursor, _poll
from kasse.domain.models import Event
from kasse.engine.merchants import SANDBOX
from kasse.engine.unit import Kasse
from kasse.storage.store import Store
from tests.conftest import AUTH, SECRET, LiveServer, _free_port
from tests.test_webhooks import SOFORT, Receiver

LIFE = ["payment.created", "payment.authorized", "payment.processing", "capture.created"]


@pytest.fixture(autouse=True)
def fast_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "LIMITS", StreamLimits(poll_s=0.05, heartbeat_s=0.2))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.secret = new_secret()
    yield r
    r.close()


class SseClient:
    """Reads one stream in its own thread until closed, ended by the server, or 15 s have passed."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None, **params: str) -> None:
        self.lines: list[str] = []
        self.status = 0
        self.headers = httpx.Headers()
        self.opened, self.stop = threading.Event(), threading.Event()
        url = f"{base_url}/api/v1/events/stream"
        self.thread = threading.Thread(target=self._read, args=(url, {**AUTH, **(headers or {})}, params))
        self.thread.start()
        assert self.opened.wait(10), "the stream did not open"

    def _read(self, url: str, headers: dict[str, str], params: dict[str, str]) -> None:
        deadline = time.monotonic() + 15
        try:
            with httpx.Client(timeout=5) as client, client.stream("GET", url, headers=headers, params=params) as r:
                self.status, self.headers = r.status_code, r.headers
                self.opened.set()
                for line in r.iter_lines():
                    self.lines.append(line)
                    if self.stop.is_set() or time.monotonic() > deadline:
                        break
        finally:
            self.opened.set()

    def parsed(self) -> tuple[list[SseEvent], str | None]:
        parser = SseParser()
        events = [e for e in map(parser.feed, list(self.lines)) if e is not None]
        return events, parser.last_id

    def wait_for(self, count: int, timeout: float = 10) -> list[SseEvent]:
        deadline = time.monotonic() + timeout
        while len(events := self.parsed()[0]) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return events

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()

    def __enter__(self) -> SseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pay_and_approve(base_url: str) -> str:
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=10) as api:
        r = api.post("/api/v1/payments", json=SOFORT)
        assert r.status_code == 201, r.text
        pid: str = r.json()["id"]
        assert api.post(f"/_sandbox/payments/{pid}/approve").status_code == 200
    return pid


def get_event(base_url: str, event_id: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base_url}/api/v1/events/{event_id}", headers=AUTH, timeout=10).json()
    return body


# --- the stream ---------------------------------------------------------------------------------------


def test_the_stream_sends_new_events_framed_and_in_order(live_server: LiveServer) -> None:
    pay_and_approve(live_server.url)  # before the stream opens: not sent
    with (
        SseClient(live_server.url) as everything,
        SseClient(live_server.url, types="capture.*, payment.authorized") as some,
    ):
        pid = pay_and_approve(live_server.url)
        events = everything.wait_for(4)
        assert [e.type for e in events] == LIFE
        some.wait_for(2)
        time.sleep(0.3)  # nothing more arrives
        assert [e.type for e in some.parsed()[0]] == ["payment.authorized", "capture.created"]
    assert everything.status == 200
    assert everything.headers["content-type"].startswith("text/event-stream")
    assert everything.headers["cache-control"] == "no-cache" and everything.headers["x-accel-buffering"] == "no"
    first = events[0]
    start = everything.lines.index(f"id: {first.id}")
    assert everything.lines[start : start + 4] == [
        f"id: {first.id}",
        "event: payment.created",
        f"data: {first.data}",
        "",
    ]
    assert "\n" not in first.data and ", " not in first.data  # compact JSON on one line
    for event in events:
        assert json.loads(event.data) == get_event(live_server.url, str(event.id))
    assert json.loads(events[1].data)["data"]["object"]["id"] == pid


def test_last_event_id_replays_what_a_client_missed(live_server: LiveServer) -> None:
    with SseClient(live_server.url) as before:
        time.sleep(0.1)
    announced = before.parsed()[1]  # the stream opens with its start as an id: resume from there
    assert announced is not None and announced.startswith("evt_") and before.parsed()[0] == []
    pay_and_approve(live_server.url)
    with SseClient(live_server.url, {"Last-Event-ID": announced}) as resumed:
        events = resumed.wait_for(4)
    assert [e.type for e in events] == LIFE
    with SseClient(live_server.url, starting_after=str(events[1].id)) as later:
        assert [e.type for e in later.wait_for(2)] == LIFE[2:]


def test_the_stream_needs_the_secret_key_and_valid_parameters(live_server: LiveServer) -> None:
    url = f"{live_server.url}/api/v1/events/stream"
    r = httpx.get(url, timeout=5)
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert httpx.get(url, headers={"Authorization": "Bearer sk_test_wrong"}, timeout=5).status_code == 401
    r = httpx.get(url, headers=AUTH, params={"types": "Payment!"}, timeout=5)
    assert r.status_code == 400 and r.json()["error"]["param"] == "types"
    assert httpx.get(url, headers={**AUTH, "Last-Event-ID": "nope"}, timeout=5).status_code == 400


def test_the_stream_keeps_alive_and_ends_after_its_maximum_duration(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "LIMITS", StreamLimits(poll_s=0.05, heartbeat_s=0.1, max_duration_s=0.6))
    client = SseClient(live_server.url)
    client.thread.join(5)
    assert not client.thread.is_alive(), "the server did not end the stream"
    assert ": keep-alive" in client.lines


def test_the_parser_reads_the_event_stream_format() -> None:
    parser = SseParser()
    lines = [": hi", "id: 7", "", "event: a", "data: x", "data:  y", "", "data: z", "id", ""]
    events = [e for e in map(parser.feed, lines) if e is not None]
    assert events == [SseEvent("7", "a", "x\n y"), SseEvent("", "message", "z")]


def _event_id(ms: int, n: int) -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "evt_" + "".join(alphabet[(v >> s) & 31] for v, w in ((ms, 10), (n, 16)) for s in range(5 * w - 5, -1, -5))


def _insert(kasse: Kasse, *ids: str) -> None:
    now = kasse.wall()
    events = [Event(i, SANDBOX.id, "payment.created", "payment", "pay_x", None, {"object": {}}, now) for i in ids]
    with kasse.db.transaction() as conn:
        Store(conn).insert_events(events)


def test_a_poll_sends_late_commits_once_and_nothing_from_before_the_start(kasse: Kasse) -> None:
    limits = StreamLimits(batch=2)
    start = _event_id(10_000, 0)
    cursor = _Cursor(after=start, start=start)

    def poll() -> list[str]:
        return [e.id for e in _poll(kasse, SANDBOX.id, cursor, limits)]

    _insert(kasse, _event_id(9_000, 1), _event_id(10_500, 1), _event_id(11_000, 1))
    assert poll() == [_event_id(10_500, 1), _event_id(11_000, 1)]
    _insert(kasse, _event_id(10_800, 1))  # committed after a later id was sent
    assert poll() == [_event_id(10_800, 1)]
    assert poll() == []
    burst = [_event_id(12_000, n) for n in range(5)]  # more than a batch, all inside the lookback window
    _insert(kasse, *burst)
    assert [poll(), poll(), poll(), poll()] == [burst[:2], burst[2:4], burst[4:], []]


# --- kasse listen -------------------------------------------------------------------------------------


class Run:
    """``listen`` in a thread, its output in a string."""

    def __init__(self, opts: ListenOptions) -> None:
        self.out = io.StringIO()
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, args=(opts,))
        self.thread.start()

    def _run(self, opts: ListenOptions) -> None:
        self.code = listen(opts, Console(file=self.out, width=200, color_system=None))

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        while "Ready!" not in self.out.getvalue() and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "Ready!" in self.out.getvalue(), self.out.getvalue()

    def join(self) -> str:
        self.thread.join(20)
        assert not self.thread.is_alive()
        return self.out.getvalue()


def options(server: LiveServer, receiver: Receiver, **overrides: Any) -> ListenOptions:
    base: dict[str, Any] = {"backoff_s": 0.05, "timeout_s": 15, "secret": receiver.secret}
    return ListenOptions(receiver.url, SECRET, server.url, **{**base, **overrides})


def test_listen_forwards_signed_events_and_retries_a_failure(live_server: LiveServer, receiver: Receiver) -> None:
    receiver.statuses = [500]
    run = Run(options(live_server, receiver, max_events=4))
    run.wait_ready()
    pay_and_approve(live_server.url)
    out = run.join()
    assert run.code == 0, out
    assert receiver.types() == ["payment.created", *LIFE]  # verified signatures; the 500 was retried
    for received in receiver.received:
        assert received["payload"] == get_event(live_server.url, received["headers"]["webhook-id"])
    assert f"Forwarding events to {receiver.url}" in out and str(receiver.secret) in out
    assert "payment.created" in out and "→ 500" in out and "retry 1/3" in out and out.count("→ 200") == 4


def test_listen_reconnects_without_missing_an_event(
    live_server: LiveServer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "LIMITS", StreamLimits(poll_s=0.05, heartbeat_s=0.1, max_duration_s=0.3))
    run = Run(options(live_server, receiver, max_events=4, events="payment.*"))
    run.wait_ready()
    for _ in range(2):
        time.sleep(0.4)  # across the server ending the stream
        pay_and_approve(live_server.url)
    out = run.join()
    assert run.code == 0, out
    assert receiver.types() == LIFE[:3] + LIFE[:1]
    assert "Reconnected" in out


def test_listen_gives_up_on_a_forward_and_on_a_server_it_cannot_reach(live_server: LiveServer) -> None:
    nowhere = f"http://127.0.0.1:{_free_port()}"
    opts = ListenOptions(f"{nowhere}/hooks", SECRET, live_server.url, retries=1, backoff_s=0.01, max_events=1)
    run = Run(opts)
    run.wait_ready()
    pay_and_approve(live_server.url)
    out = run.join()
    assert run.code == 0 and "→ ConnectError" in out and "gave up" in out
    run = Run(ListenOptions(f"{nowhere}/hooks", SECRET, nowhere, backoff_s=0.01, reconnects=2))
    out = run.join()
    assert run.code == 1 and "Giving up after 3 failed connections" in out


def test_the_listen_command(live_server: LiveServer) -> None:
    runner = CliRunner()
    common = ["listen", "--forward-to", "http://127.0.0.1:9/hooks", "--base-url", live_server.url]
    result = runner.invoke(app, [*common, "--timeout", "0.5"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Ready!" in result.output and "whsec_" in result.output
    result = runner.invoke(app, [*common, "--api-key", "sk_test_wrong"], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "Invalid API key" in result.output
