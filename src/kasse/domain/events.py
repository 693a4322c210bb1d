"""Domain event types. Each state change emits events that leave through the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["EventType", "is_known_type_filter"]


class EventType(StrEnum):
    PAYMENT_CREATED = "payment.created"
    PAYMENT_AUTHORIZED = "payment.authorized"
    PAYMENT_PROCESSING = "payment.processing"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CANCELED = "payment.canceled"
    PAYMENT_EXPIRED = "payment.expired"
    CAPTURE_CREATED = "capture.created"
    CAPTURE_SUCCEEDED = "capture.succeeded"
    CAPTURE_FAILED = "capture.failed"
    REFUND_CREATED = "refund.created"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    REFUND_CANCELED = "refund.canceled"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"


def is_known_type_filter(value: str, dialects: Iterable[str]) -> bool:
    """Whether an event ``type`` filter can match anything: an engine type (``payment.succeeded``), a
    wildcard over them (``payment.*``), or a dialect's own type, prefixed with its name
    (``stripe:charge.succeeded``). A typo (``payment.succeded``) is an error, not an empty list."""
    prefix, sep, rest = value.partition(":")
    if sep:
        return prefix in set(dialects) and bool(rest)
    if value.endswith("*"):
        stem = value[:-1]
        return "*" not in stem and any(t.value.startswith(stem) for t in EventType)
    return value in {t.value for t in EventType}
