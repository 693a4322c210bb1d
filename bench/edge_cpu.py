"""CPU per request at the edge, in-process: the app called as ASGI (no socket, no HTTP parser), SQLite in
a temp file, workers off. Prints process CPU µs per request for a native create, a native read and a
Stripe ``POST /v1/sources``; ``--profile NAME`` prints a cProfile of that one instead.

    .venv/bin/python -m bench.edge_cpu [--requests 2000] [--profile create|get|sources]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kasse.config import Settings
from kasse.web.app import create_app

SORT = "tottime"
SOURCE = b"type=sofort&amount=1000&currency=eur&redirect[return_url]=https://shop.example/r&sofort[country]=DE"
AUTH = (b"authorization", b"Bearer sk_test_kasse_sandbox")
CREATE = json.dumps(
    {"amount": 1000, "currency": "EUR", "method": "sofort", "country": "DE", "return_url": "https://shop.example/r"}
).encode()


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "state": {},
    }  # fmt: skip


async def call(app: Any, method: str, path: str, body: bytes = b"", headers: tuple[Any, ...] = ()) -> tuple[int, bytes]:
    hdrs = [(b"host", b"127.0.0.1:8000"), AUTH, *headers]
    if body:
        hdrs.append((b"content-length", str(len(body)).encode()))
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(_scope(method, path, hdrs), receive, send)
    return status, b"".join(chunks)


async def _measure(app: Any, n: int, profile: str | None) -> dict[str, float]:
    counter = [0]

    async def create() -> None:
        counter[0] += 1
        key = (b"idempotency-key", f"k{counter[0]}-{time.monotonic_ns()}".encode())
        status, _ = await call(app, "POST", "/api/v1/payments", CREATE, ((b"content-type", b"application/json"), key))
        assert status == 201, status

    status, body = await call(app, "POST", "/api/v1/payments", CREATE, ((b"content-type", b"application/json"),))
    assert status == 201, body
    payment_id = json.loads(body)["id"]

    async def get() -> None:
        status, _ = await call(app, "GET", f"/api/v1/payments/{payment_id}")
        assert status == 200, status

    form = (b"content-type", b"application/x-www-form-urlencoded")

    async def sources() -> None:
        status, body = await call(app, "POST", "/stripe/v1/sources", SOURCE, (form,))
        assert status == 200, body

    steps: dict[str, Callable[[], Awaitable[None]]] = {"create": create, "get": get, "sources": sources}
    results: dict[str, float] = {}
    for name, step in steps.items():
        if profile and name != profile:
            continue
        for _ in range(100):  # warm up
            await step()
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        begin = time.process_time()
        for _ in range(n):
            await step()
        results[name] = (time.process_time() - begin) * 1e6 / n
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats(SORT).print_stats(60)
    return results


async def _main(n: int, profile: str | None) -> dict[str, float]:
    tmp = tempfile.mkdtemp()
    settings = Settings(database_url=f"sqlite:///{tmp}/edge.db", run_workers=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        return await _measure(app, n, profile)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", choices=["create", "get", "sources"], default=None)
    args = parser.parse_args()
    results = asyncio.run(_main(args.requests, args.profile))
    print(json.dumps({k: round(v, 1) for k, v in results.items()}))


if __name__ == "__main__":
    main()
