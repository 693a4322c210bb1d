"""Webhook endpoints and deliveries: the notification side of the outbox, as plain data.

The retry schedule follows the big providers: a first retry within a minute, then growing gaps,
giving up after about three days (Stripe retries for up to three days; Svix's schedule is similar).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "DISABLE_AFTER_FAILING_S",
    "RETRY_SCHEDULE_S",
    "Delivery",
    "DeliverySettings",
    "DeliveryStatus",
    "EndpointStatus",
    "Faults",
    "WebhookEndpoint",
    "matches",
    "new_secret",
    "retry_delay_s",
]

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes them: ``whsec_`` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


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
    lease_token: str | None = None
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


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """A merchant's delivery settings (stored in the merchant's settings under ``webhooks``)."""

    timeout_s: float = 10.0
    retry_schedule_s: tuple[int, ...] = RETRY_SCHEDULE_S

    @classmethod
    def from_dict(cls, data: dict[str, object] | None) -> DeliverySettings:
        data = data or {}
        schedule = data.get("retry_schedule_s")
        return cls(
            timeout_s=float(data.get("timeout_s", 10.0)),  # type: ignore[arg-type]
            retry_schedule_s=tuple(int(s) for s in schedule) if isinstance(schedule, list) else RETRY_SCHEDULE_S,
        )

    def as_dict(self) -> dict[str, object]:
        return {"timeout_s": self.timeout_s, "retry_schedule_s": list(self.retry_schedule_s)}


@dataclass(frozen=True, slots=True)
class Faults:
    """The sandbox fault switch: what share of deliveries to drop, hold back, duplicate or reorder, so a
    shop can prove its handler copes. Shares are 0..1; ``seed`` makes the choices repeatable."""

    drop: float = 0.0  # attempts not sent at all (recorded as failed; retried on schedule)
    delay: float = 0.0  # deliveries held back ``delay_s`` (merchant clock) before their first attempt
    delay_s: int = 0
    duplicate: float = 0.0  # successful deliveries sent a second time, identical (same webhook-id)
    reorder: float = 0.0  # share of claimed batches sent in reverse order
    seed: int | None = None

    @property
    def active(self) -> bool:
        return any((self.drop, self.delay and self.delay_s, self.duplicate, self.reorder))

    @classmethod
    def from_dict(cls, data: dict[str, object] | None) -> Faults:
        data = data or {}
        seed = data.get("seed")
        return cls(
            drop=float(data.get("drop", 0.0)),  # type: ignore[arg-type]
            delay=float(data.get("delay", 0.0)),  # type: ignore[arg-type]
            delay_s=int(data.get("delay_s", 0)),  # type: ignore[call-overload]
            duplicate=float(data.get("duplicate", 0.0)),  # type: ignore[arg-type]
            reorder=float(data.get("reorder", 0.0)),  # type: ignore[arg-type]
            seed=int(seed) if isinstance(seed, int) else None,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "drop": self.drop, "delay": self.delay, "delay_s": self.delay_s, "duplicate": self.duplicate,
            "reorder": self.reorder, "seed": self.seed,
        }  # fmt: skip
