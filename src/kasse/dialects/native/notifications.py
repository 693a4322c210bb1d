"""Native notifications: an event as delivered to a native webhook endpoint (Standard Webhooks
signing and delivery come with the notifications issue)."""

from __future__ import annotations

from typing import Any

from kasse.dialects.native.translate import event_out
from kasse.domain.models import Event

__all__ = ["render_event"]


def render_event(event: Event, base_url: str) -> dict[str, Any]:
    return event_out(event, base_url)
