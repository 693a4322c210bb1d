"""ASGI middleware: one wrapper for the native API's trailing slash, the request size limit and the
request metrics (one layer rather than three: each layer is a coroutine and two closures per request)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kasse.domain.clock import monotonic_s
from kasse.web import metrics

__all__ = ["Edge"]


def _too_large(limit: int) -> bytes:
    return json.dumps(
        {
            "error": {
                "type": "invalid_request_error",
                "code": "request_too_large",
                "message": f"Request body exceeds {limit} bytes",
                "param": None,
            }
        }
    ).encode()


NATIVE_PREFIX = "/api/v1/"


class Edge:
    """Outermost to innermost, as three middlewares did before:

    - **trailing slash**: ``POST /api/v1/payments/`` is ``POST /api/v1/payments``: the native API answers
      both rather than a 307 that many clients do not follow with the body. Only the native API: provider
      dialects keep their providers' own paths, slashes included.
    - **body limit**: bodies over ``limit`` bytes are refused with 413, whether announced by
      Content-Length or streamed.
    - **metrics**: requests counted and latencies observed by route template (not raw path: ids would
      explode it), for every request that reached the app (not the 413s refused by Content-Length)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    # Size rule exception: one ASGI wrapper for the three concerns, announced and streamed bodies.
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: C901
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith(NATIVE_PREFIX) and path.endswith("/") and len(path) > len(NATIVE_PREFIX):
            trimmed = path.rstrip("/")
            scope = {**scope, "path": trimmed, "raw_path": trimmed.encode()}
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await self._reject(send)
                    return
        seen = 0
        exceeded = False
        replaced = False
        status = 500
        started = monotonic_s()

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The framework may catch the aborted read and answer with its own 400; once the limit
            # was passed, whatever it answers is replaced by our 413 (the metrics count what it answered).
            nonlocal replaced, status
            if message["type"] == "http.response.start":
                status = message["status"]
            if exceeded:
                if not replaced:
                    replaced = True
                    await self._reject(send)
                return
            await send(message)

        try:
            try:
                await self.app(scope, limited_receive, guarded_send)
            finally:
                route = scope.get("route")
                template = getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched"
                metrics.observe_request(scope["method"], template, status, monotonic_s() - started)
        except _TooLarge:
            if not replaced:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = _too_large(self.limit)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
