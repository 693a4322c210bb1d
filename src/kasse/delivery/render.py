"""The renderer interface: each dialect turns an event into the request its own receivers expect.

The native dialect registers itself here; provider dialects add theirs in their own issues.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kasse.domain.models import Event
from kasse.domain.webhooks import WebhookEndpoint

__all__ = ["Rendered", "Renderer", "register_renderer", "renderer_for"]


@dataclass(frozen=True, slots=True)
class Rendered:
    url: str
    headers: dict[str, str]
    body: bytes


class Renderer(Protocol):
    def __call__(self, event: Event, endpoint: WebhookEndpoint, *, base_url: str, wall_s: int) -> Rendered: ...


_RENDERERS: dict[str, Renderer] = {}


def register_renderer(dialect: str, renderer: Renderer) -> None:
    _RENDERERS[dialect] = renderer


def renderer_for(dialect: str) -> Renderer:
    if dialect not in _RENDERERS:
        # Importing a dialect's notifications module registers its renderer.
        __import__(f"kasse.dialects.{dialect}.notifications")
    return _RENDERERS[dialect]
