"""Webhook endpoints and deliveries: the notification side of the outbox, as plain data.

The retry schedule follows the big providers: a first retry within a minute, then growing gaps,
giving up after about three days (Stripe retries for up to three days; Svix's schedule is similar).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "DISABLE_AFTER_FAILING_S",
    "RETRY_SCHEDULE_S",
    "Delivery",
    "DeliveryStatus",
    "EndpointStatus",
    "WebhookEndpoint",
    "matches",
    "retry_delay_s",
]

# Gaps before attempt 2, 3, …: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h, 24 h (about 2.9 days in all).
RETRY_SCHEDULE_S: tuple[int, ...] = (60, 300, 1_800, 7_200, 21_600, 43_200, 86_400, 86_400)

# An endpoint whose deliveries have failed without a single success for this long is disabled.
DISABLE_AFTER_FAILING_S = 3 * 86_400


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # an attempt is due now or later
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the schedule ran out (replay still possible)
    SKIPPED = "skipped"  # the endpoint was disabled before the delivery succeeded


@dataclass(slots=True)
class WebhookEndpoint:
    id: str
    merchant_id: str
    dialect: str
    url: str
    secret: str
    status: EndpointStatus
    created_at: datetime
    updated_at: datetime
    enabled_events: list[str] = field(default_factory=lambda: ["*"])
    description: str | None = None
    disabled_reason: str | None = None
    failing_since: datetime | None = None


@dataclass(slots=True)
class Delivery:
    id: str
    merchant_id: str
    event_id: str
    endpoint_id: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None = None
    leased_until: datetime | None = None
    last_response_status: int | None = None


def matches(enabled_events: list[str], event_type: str) -> bool:
    """``*`` matches all; ``payment.*`` a family; anything else one type."""
    for pattern in enabled_events:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def retry_delay_s(attempts_made: int, schedule: tuple[int, ...] = RETRY_SCHEDULE_S) -> int | None:
    """Seconds until the next attempt after ``attempts_made`` attempts, or None when they are used up."""
    if attempts_made <= 0:
        return 0
    index = attempts_made - 1
    return schedule[index] if index < len(schedule) else None
