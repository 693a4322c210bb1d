"""A tiny, fast webhook receiver for the lifecycle and delivery scenarios: `python -m bench.receiver PORT`.

Plain asyncio (uvloop when installed) speaking just enough HTTP/1.1 with keep-alive: every POST is
answered `200 ok` at once and counted by event type (the JSON body's ``type``); ``GET /stats`` answers the
counts, the distinct payments whose ``payment.succeeded`` arrived, and the wall time (``time.time()``)
of the first and the latest delivery; ``POST /reset`` zeroes them; ``GET /healthz`` answers 200.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any

OK = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.received = 0
        self.by_type: Counter[str] = Counter()
        self.event_ids: set[str] = set()
        self.succeeded: set[str] = set()
        self.first: float | None = None
        self.last: float | None = None
        self.last_succeeded: float | None = None

    def record(self, body: bytes, event_id: str | None) -> None:
        now = time.time()
        self.received += 1
        self.first = self.first or now
        self.last = now
        if event_id:
            self.event_ids.add(event_id)
        try:
            event = json.loads(body)
            kind = str(event.get("type"))
        except (ValueError, AttributeError):
            kind = "unparsed"
        self.by_type[kind] += 1
        if kind == "payment.succeeded":
            self.succeeded.add(str(event.get("data", {}).get("object", {}).get("id")))
            self.last_succeeded = now

    def as_json(self) -> bytes:
        data: dict[str, Any] = {
            "received": self.received,
            "distinct_events": len(self.event_ids),
            "by_type": dict(self.by_type),
            "succeeded_payments": len(self.succeeded),
            "first": self.first,
            "last": self.last,
            "last_succeeded": self.last_succeeded,
        }
        return json.dumps(data).encode()


STATS = Stats()


class Http(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, path, *_ = head[0].split(" ")
            self.respond(method, path, body, headers)

    def respond(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> None:
        if method == "GET" and path == "/stats":
            payload = STATS.as_json()
            self.transport.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                % (len(payload), payload)
            )
            return
        if method == "POST" and path == "/reset":
            STATS.reset()
        elif method == "POST" and path != "/baseline":
            STATS.record(body, headers.get("webhook-id"))
        self.transport.write(OK)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Http, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    port = int(sys.argv[1])
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(port))


if __name__ == "__main__":
    main()
