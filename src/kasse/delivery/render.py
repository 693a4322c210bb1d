"""The renderer interface: each dialect turns an event into the request its own receivers expect.

Each dialect brings its ``Outbound`` (``kasse.dialects._base.Dialect.outbound``); the delivery worker
receives them as a mapping from dialect name, never by import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kasse.domain.models import Event
from kasse.domain.webhooks import WebhookEndpoint

__all__ = ["BodyRenderer", "DeliveryPolicy", "Outbound", "Rendered", "Renderer", "Signer", "shortest_retry_s"]


@dataclass(frozen=True, slots=True)
class Rendered:
    url: str
    headers: dict[str, str]
    body: bytes
    method: str = "POST"  # MultiSafepay's notification_method GET sends no body


class Renderer(Protocol):
    def __call__(self, event: Event, endpoint: WebhookEndpoint, *, base_url: str, wall_s: int) -> Rendered: ...


class BodyRenderer(Protocol):
    """The part of a dialect's request that is the same for every endpoint: the body of an event."""

    def __call__(self, event: Event, *, base_url: str) -> bytes: ...


class Signer(Protocol):
    """The rest, per endpoint: where it goes and the headers that sign ``body`` with its secret."""

    def __call__(self, event: Event, endpoint: WebhookEndpoint, body: bytes, *, wall_s: int) -> Rendered: ...


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How a dialect's receivers acknowledge, and how often an unacknowledged delivery is retried.

    Defaults: any 2xx acknowledges; the merchant's retry schedule. MultiSafepay wants ``OK`` in the
    answer and retries three times at 15-minute intervals."""

    acknowledged: Callable[[int, str], bool] | None = None  # (status, response text) -> acknowledged
    retry_schedule_s: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    """What the delivery worker needs of a dialect: how to render an event for its receivers, and how
    they acknowledge."""

    renderer: Renderer
    policy: DeliveryPolicy = DeliveryPolicy()
    # Optional, both or neither: ``renderer`` split in two, so that a batch sending one event to several
    # endpoints renders its body once (``renderer`` must equal ``signer(body(event))``).
    body: BodyRenderer | None = None
    signer: Signer | None = None


def shortest_retry_s(schedule: tuple[int, ...], policies: list[DeliveryPolicy]) -> float:
    """The shortest wait between two attempts of one delivery, under ``schedule`` or the own schedule of
    one of ``policies``."""
    own = [p.retry_schedule_s for p in policies]
    return float(min([*schedule, *(s for o in own if o for s in o)], default=0))
