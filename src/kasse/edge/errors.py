"""Errors at a dialect's edge: one route class per dialect renders whatever its routes raise —
a domain error, a framework ``HTTPException``, a bug — in the dialect's shape, and stamps the
dialect's headers on every answer (Stripe's ``Request-Id``).

A route class rather than app-level exception handlers: the dialects share one app (one port) and
each needs its own error shape for the same exception types. The native API keeps the app-level
handlers (``web/app.py``), which also answer for URLs no route matches."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["Render", "dialect_route"]

Render = Callable[[Exception], Response]
"""An exception → the dialect's answer. It logs what it does not expect (rule 7: logged once)."""


def dialect_route(
    render: Render, *, headers: Callable[[], Mapping[str, str]] | None = None, name: str = "DialectRoute"
) -> type[APIRoute]:
    """A route class answering every exception of its routes with ``render(exc)``; ``headers()`` is
    added to every answer, success or error."""

    class DialectRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            inner = super().get_route_handler()

            async def handler(request: Request) -> Response:
                try:
                    response = await inner(request)
                except Exception as exc:
                    response = render(exc)
                if headers is not None:
                    response.headers.update(headers())
                return response

            return handler

    DialectRoute.__name__ = DialectRoute.__qualname__ = name
    return DialectRoute
