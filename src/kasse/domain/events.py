"""Domain event types. Each state change emits events that leave through the outbox."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["EventType"]


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
