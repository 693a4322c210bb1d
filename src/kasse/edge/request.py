"""What a handler reads from the app it runs in: the objects ``web.app.create_app`` puts on
``app.state``, one accessor each (the attribute names are written here and in ``create_app`` only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from kasse.config import Settings
    from kasse.delivery.worker import Deliverer
    from kasse.edge.auth import KeyCache
    from kasse.engine.targets import TargetGuard
    from kasse.engine.unit import Kasse

__all__ = ["base_url", "deliverer_of", "kasse_of", "key_cache_of", "settings_of", "targets_of"]


def kasse_of(request: HTTPConnection) -> Kasse:
    kasse: Kasse = request.app.state.kasse
    return kasse


def settings_of(request: HTTPConnection) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def base_url(request: HTTPConnection) -> str:
    """The public base URL of this server (links in answers and notifications)."""
    return str(settings_of(request).base_url)


def targets_of(request: HTTPConnection) -> TargetGuard:
    targets: TargetGuard = request.app.state.targets
    return targets


def deliverer_of(request: HTTPConnection) -> Deliverer:
    deliverer: Deliverer = request.app.state.deliverer
    return deliverer


def key_cache_of(request: HTTPConnection) -> KeyCache:
    cache: KeyCache = request.app.state.key_cache
    return cache
