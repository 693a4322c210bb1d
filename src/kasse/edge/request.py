"""What a handler reads from the app it runs in: the objects ``web.app.create_app`` puts on
``app.state``, one accessor each (the attribute names are written here and in ``create_app`` only)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from starlette.requests import HTTPConnection, Request

if TYPE_CHECKING:
    from kasse.config import Settings
    from kasse.delivery.worker import Deliverer
    from kasse.edge.auth import KeyCache
    from kasse.engine.targets import TargetGuard
    from kasse.engine.unit import Kasse

__all__ = ["base_url", "deliverer_of", "json_body", "kasse_of", "key_cache_of", "settings_of", "targets_of"]


def kasse_of(request: HTTPConnection) -> Kasse:
    return cast("Kasse", request.app.state.kasse)


def settings_of(request: HTTPConnection) -> Settings:
    return cast("Settings", request.app.state.settings)


def base_url(request: HTTPConnection) -> str:
    """The public base URL of this server (links in answers and notifications)."""
    return str(settings_of(request).base_url)


def targets_of(request: HTTPConnection) -> TargetGuard:
    return cast("TargetGuard", request.app.state.targets)


def deliverer_of(request: HTTPConnection) -> Deliverer:
    return cast("Deliverer", request.app.state.deliverer)


def key_cache_of(request: HTTPConnection) -> KeyCache:
    return cast("KeyCache", request.app.state.key_cache)


def json_body(invalid: Callable[[], Exception]) -> Callable[[Request], Awaitable[Any]]:
    """A body dependency for a JSON API: the decoded body (``{}`` when empty, so the dialect's own
    validation names the missing fields), or ``invalid()`` raised — the dialect's error for a body that
    is not JSON."""

    async def body(request: Request) -> Any:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise invalid() from None

    return body
