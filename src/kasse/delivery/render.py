"""The renderer interface: each dialect turns an event into the request its own receivers expect.

The native dialect registers itself here; provider dialects add theirs in their own issues.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kasse.domain.models import Event
from kasse.domain.webhooks import WebhookEndpoint

__all__ = [
    "DeliveryPolicy",
    "Rendered",
    "Renderer",
    "policy_for",
    "register_policy",
    "register_renderer",
    "renderer_for",
    "shortest_retry_s",
]


@dataclass(frozen=True, slots=True)
class Rendered:
    url: str
    headers: dict[str, str]
    body: bytes
    method: str = "POST"  # MultiSafepay's notification_method GET sends no body


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


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How a dialect's receivers acknowledge, and how often an unacknowledged delivery is retried.

    Defaults: any 2xx acknowledges; the merchant's retry schedule. MultiSafepay wants ``OK`` in the
    answer and retries three times at 15-minute intervals."""

    acknowledged: Callable[[int, str], bool] | None = None  # (status, response text) -> acknowledged
    retry_schedule_s: tuple[int, ...] | None = None


_POLICIES: dict[str, DeliveryPolicy] = {}


def register_policy(dialect: str, policy: DeliveryPolicy) -> None:
    _POLICIES[dialect] = policy


def policy_for(dialect: str) -> DeliveryPolicy:
    renderer_for(dialect)  # importing the dialect's notifications module registers its policy too
    return _POLICIES.get(dialect, DeliveryPolicy())


def shortest_retry_s(schedule: tuple[int, ...], dialects: set[str]) -> float:
    """The shortest wait between two attempts of one delivery, under ``schedule`` or the own schedule of
    one of ``dialects``."""
    own = [policy_for(d).retry_schedule_s for d in sorted(dialects)]
    return float(min([*schedule, *(s for o in own if o for s in o)], default=0))
