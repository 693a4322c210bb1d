"""``kasse listen``: the local webhook loop of the Stripe CLI. Reads this merchant's events live from
``GET /api/v1/events/stream`` (Server-Sent Events), forwards each to a local URL signed with a session
secret (Standard Webhooks), prints the answer, retries failed forwards, and reconnects with
``Last-Event-ID`` when the stream drops, so no event is missed."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from rich.console import Console
from rich.text import Text

from kasse.delivery.signing import new_secret, standard_webhooks_headers
from kasse.domain.clock import monotonic_s, system_wall_clock

__all__ = ["ListenOptions", "SseEvent", "SseParser", "listen"]

HEARTBEAT_GRACE_S = 45.0  # the server sends a comment every 15 s; silence this long means a dead stream
FORWARD_TIMEOUT_S = 10.0
MAX_RECONNECT_DELAY_S = 30.0


@dataclass(frozen=True)
class ListenOptions:
    forward_to: str
    api_key: str
    base_url: str
    events: str | None = None  # comma-separated patterns: *, payment.*, refund.succeeded
    retries: int = 3  # retries of a failed forward
    backoff_s: float = 1.0  # before the first retry (of a forward or a connection); doubles each time
    reconnects: int = 5  # failed connection attempts in a row before giving up
    max_events: int | None = None  # stop after this many events
    timeout_s: float | None = None  # stop after this many seconds
    secret: str | None = None  # the signing secret (default: a new one per session)


@dataclass(frozen=True)
class SseEvent:
    id: str | None
    type: str
    data: str


class SseParser:
    """Server-Sent Events, line by line, as the HTML standard reads them (``last_id`` is the resume point)."""

    def __init__(self) -> None:
        self.last_id: str | None = None
        self._type = ""
        self._data: list[str] = []

    def reset(self) -> None:
        """A new connection: forget a half-received event, keep the last id."""
        self._type, self._data = "", []

    def feed(self, line: str) -> SseEvent | None:
        """Take one line (without its end); answer the event a blank line completes."""
        if not line:
            data, kind = self._data, self._type or "message"
            self._data, self._type = [], ""
            return SseEvent(self.last_id, kind, "\n".join(data)) if data else None
        if line.startswith(":"):
            return None  # a comment: the keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._type = value
        elif name == "id" and "\0" not in value:
            self.last_id = value
        return None


class _Fatal(Exception):
    """Reconnecting will not help (a wrong key, a rejected filter)."""


class _Dropped(Exception):
    """The stream could not be opened or ended early; reconnect."""


def _error_message(response: httpx.Response) -> str:
    response.read()
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


class Listener:
    def __init__(self, opts: ListenOptions, console: Console, http: httpx.Client) -> None:
        self.opts, self.console, self.http = opts, console, http
        self.secret = opts.secret or new_secret()
        self.parser = SseParser()
        self.started = monotonic_s()
        self.handled = 0
        self.connected_once = False
        self._connected_now = False

    def _say(self, line: Text | str) -> None:
        self.console.print(line, soft_wrap=True)  # one line per event, also when piped to a file

    # --- the loop ----------------------------------------------------------------------------------

    def remaining_s(self) -> float | None:
        return None if self.opts.timeout_s is None else self.opts.timeout_s - (monotonic_s() - self.started)

    def done(self) -> bool:
        remaining = self.remaining_s()
        out_of_time = remaining is not None and remaining <= 0
        return out_of_time or (self.opts.max_events is not None and self.handled >= self.opts.max_events)

    def run(self) -> int:
        failures = 0
        while not self.done():
            try:
                self._consume()
                failures = 0  # the server ended the stream (it does after an hour): reconnect at once
            except _Fatal as exc:
                self._say(Text(f"Error: {exc}", style="bold red"))
                return 1
            except (httpx.TransportError, _Dropped) as exc:
                if self.done():
                    break
                failures = 0 if self._connected_now else failures + 1
                if failures > self.opts.reconnects:
                    self._say(Text(f"Giving up after {failures} failed connections: {exc}", style="red"))
                    return 1
                self._pause(failures, exc)
        return 0

    def _pause(self, failures: int, exc: Exception) -> None:
        delay = min(self.opts.backoff_s * 2 ** max(failures - 1, 0), MAX_RECONNECT_DELAY_S)
        remaining = self.remaining_s()
        if remaining is not None:
            delay = max(min(delay, remaining), 0)
        what = "Connection lost" if self._connected_now else "Cannot connect"
        self._say(Text(f"{what} ({str(exc) or type(exc).__name__}); reconnecting in {delay:g} s", style="yellow"))
        time.sleep(delay)

    # --- the stream --------------------------------------------------------------------------------

    def _request_headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.opts.api_key}", "Accept": "text/event-stream"}
        if self.parser.last_id:
            headers["Last-Event-ID"] = self.parser.last_id
        return headers

    def _consume(self) -> None:
        self._connected_now = False
        remaining = self.remaining_s()
        read_s = HEARTBEAT_GRACE_S if remaining is None else max(min(HEARTBEAT_GRACE_S, remaining), 0.01)
        url = self.opts.base_url.rstrip("/") + "/api/v1/events/stream"
        params = {"types": self.opts.events} if self.opts.events else None
        timeout = httpx.Timeout(10.0, read=read_s)
        with self.http.stream("GET", url, params=params, headers=self._request_headers(), timeout=timeout) as r:
            if 400 <= r.status_code < 500:
                raise _Fatal(f"{r.status_code} {_error_message(r)}")
            if r.status_code != 200:
                raise _Dropped(f"HTTP {r.status_code}")
            self._connected_now = True
            self.parser.reset()
            self._announce()
            for line in r.iter_lines():
                event = self.parser.feed(line)
                if event is not None:
                    self._forward(event)
                    self.handled += 1
                if self.done():
                    return

    def _announce(self) -> None:
        if self.connected_once:
            self._say(Text(f"Reconnected, resuming after {self.parser.last_id}", style="yellow"))
            return
        self.connected_once = True
        ready = Text.assemble(("Ready!", "bold green"), " Forwarding events to ", (self.opts.forward_to, "bold"))
        ready.append(f" (events: {self.opts.events or '*'})")
        self._say(ready)
        self._say(Text.assemble("Your webhook signing secret is ", (self.secret, "bold"), " (^C to quit)"))

    # --- forwarding --------------------------------------------------------------------------------

    def _forward(self, event: SseEvent) -> None:
        body = event.data.encode()
        retries = self.opts.retries
        for attempt in range(retries + 1):
            if attempt:
                delay = self.opts.backoff_s * 2 ** (attempt - 1)
                self._say(Text(f"  retry {attempt}/{retries} of {event.id} in {delay:g} s", style="yellow"))
                time.sleep(delay)
            if self._attempt(event, body):
                return
        self._say(Text(f"  gave up on {event.id} after {retries + 1} attempts", style="bold red"))

    def _attempt(self, event: SseEvent, body: bytes) -> bool:
        now = system_wall_clock()
        signed = standard_webhooks_headers(self.secret, event.id or "", int(now.timestamp()), body)
        headers = {"Content-Type": "application/json", "User-Agent": "kasse-listen", **signed}
        started = monotonic_s()
        try:
            response = self.http.post(self.opts.forward_to, content=body, headers=headers, timeout=FORWARD_TIMEOUT_S)
            shown, ok = str(response.status_code), response.is_success
        except httpx.HTTPError as exc:
            shown, ok = type(exc).__name__, False
        latency_ms = round((monotonic_s() - started) * 1000)
        line = Text.assemble(
            (now.astimezone().strftime("%Y-%m-%d %H:%M:%S"), "dim"), "  ", (event.type, "bold"), f"  {event.id}  ",
            (f"→ {shown}", "bold green" if ok else "bold red"), f"  {latency_ms} ms",
        )  # fmt: skip
        self._say(line)
        return ok


def listen(opts: ListenOptions, console: Console) -> int:
    """Run until ``max_events`` or ``timeout_s`` (or ^C); the exit status: 0, or 1 when it cannot go on."""
    if opts.secret is not None:
        try:
            standard_webhooks_headers(opts.secret, "probe", 0, b"")
        except ValueError:
            console.print(Text("Error: --secret must be a whsec_… signing secret", style="bold red"))
            return 2
    with httpx.Client() as http:
        listener = Listener(opts, console, http)
        try:
            return listener.run()
        except KeyboardInterrupt:
            console.print("Stopped.")
            return 0
