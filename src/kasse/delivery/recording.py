"""Recording an attempt in the unit of work: the attempt row, the delivery's next try (or its end), and
the endpoint's failing streak (disabled, with an event, after days without a success)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kasse.delivery.outcome import Outcome
from kasse.delivery.render import Rendered
from kasse.domain.events import EventType
from kasse.domain.webhooks import (
    DISABLE_AFTER_FAILING_S,
    Delivery,
    DeliverySettings,
    DeliveryStatus,
    EndpointStatus,
    WebhookEndpoint,
    retry_delay_s,
)
from kasse.engine.unit import Kasse, Tx

__all__ = ["Loaded", "hold_back", "note_failure", "record_attempt"]


@dataclass
class Loaded:
    """What recording a batch of answers reads once for the batch, in its unit of work: the deliveries
    (locked, one query), and each endpoint (read unlocked once, locked once only if it must change)."""

    deliveries: dict[str, Delivery]
    endpoints: dict[str, WebhookEndpoint | None] = field(default_factory=dict)
    locked: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, tx: Tx, deliveries: list[Delivery]) -> Loaded:
        merchant_id = tx.merchant_id
        ids = [d.id for d in deliveries]
        return cls(tx.store.get_deliveries(merchant_id=merchant_id, delivery_ids=ids, for_update=True))


def record_attempt(
    tx: Tx, delivery: Delivery, endpoint: WebhookEndpoint, rendered: Rendered, outcome: Outcome, *,
    trigger: str, schedule: DeliverySettings, loaded: Loaded | None = None,
) -> None:  # fmt: skip
    """Record one answer. ``loaded``: the batch's rows, read once (``Loaded.of``) for every answer of it."""
    current = _delivery(tx, delivery, loaded)
    if current is None:
        return  # deleted with its endpoint meanwhile
    current.attempts += 1
    tx.store.insert_attempt(
        merchant_id=delivery.merchant_id, id=tx.new_id("attempt"), delivery_id=delivery.id,
        number=current.attempts, trigger=trigger, url=rendered.url, request_headers=rendered.headers,
        request_body=rendered.body.decode(), response_status=outcome.status,
        response_body=getattr(outcome, "excerpt", None), latency_ms=outcome.latency_ms,
        error=outcome.error, succeeded=outcome.ok, attempted_at=tx.now,
    )  # fmt: skip
    current.last_response_status = outcome.status
    if current.lease_token == delivery.lease_token:  # never clear another worker's lease
        current.leased_until, current.lease_token = None, None
    current.updated_at = tx.now
    # The endpoint row is locked only to change it: concurrent successes must not queue on it.
    ep = _endpoint(tx, delivery.merchant_id, endpoint.id, loaded, lock=False)
    if ep is not None and (not outcome.ok or ep.failing_since is not None):
        ep = _endpoint(tx, delivery.merchant_id, endpoint.id, loaded, lock=True)
    if outcome.ok:
        current.status, current.next_attempt_at = DeliveryStatus.SUCCEEDED, None
        if ep is not None and ep.failing_since is not None:
            ep.failing_since, ep.updated_at = None, tx.now
            tx.store.update_endpoint(ep)
    elif current.status is DeliveryStatus.PENDING:
        delay = retry_delay_s(current.attempts, schedule.retry_schedule_s)
        current.next_attempt_at = None if delay is None else tx.now + timedelta(seconds=delay)
        if delay is None:
            current.status = DeliveryStatus.FAILED
        if ep is not None and note_failure(tx, ep):
            current.status, current.next_attempt_at = DeliveryStatus.SKIPPED, None
            if loaded is not None:  # its pending deliveries were skipped in the database: read them again
                tx.store.update_delivery(current)
                loaded.deliveries = tx.store.get_deliveries(
                    merchant_id=tx.merchant_id, delivery_ids=list(loaded.deliveries), for_update=True
                )
                return
    tx.store.update_delivery(current)


def _delivery(tx: Tx, delivery: Delivery, loaded: Loaded | None) -> Delivery | None:
    if loaded is None:
        return tx.store.get_delivery(merchant_id=delivery.merchant_id, delivery_id=delivery.id, for_update=True)
    return loaded.deliveries.get(delivery.id)


def _endpoint(
    tx: Tx, merchant_id: str, endpoint_id: str, loaded: Loaded | None, *, lock: bool
) -> WebhookEndpoint | None:
    if loaded is None:
        return tx.store.get_endpoint(merchant_id=merchant_id, endpoint_id=endpoint_id, for_update=lock)
    if endpoint_id not in loaded.endpoints or (lock and endpoint_id not in loaded.locked):
        loaded.endpoints[endpoint_id] = tx.store.get_endpoint(
            merchant_id=merchant_id, endpoint_id=endpoint_id, for_update=lock
        )
        if lock:
            loaded.locked.add(endpoint_id)
    return loaded.endpoints[endpoint_id]


def note_failure(tx: Tx, endpoint: WebhookEndpoint) -> bool:
    """An endpoint failing without a success for days is disabled, and an event says so; True then."""
    disabled = False
    if endpoint.failing_since is None:
        endpoint.failing_since = tx.now
    elif (
        endpoint.status is EndpointStatus.ENABLED
        and (tx.now - endpoint.failing_since).total_seconds() >= DISABLE_AFTER_FAILING_S
    ):
        endpoint.status = EndpointStatus.DISABLED
        endpoint.disabled_reason = "failing"
        tx.store.skip_pending_deliveries(merchant_id=tx.merchant_id, endpoint_id=endpoint.id, now=tx.now)
        tx.emit(EventType.WEBHOOK_ENDPOINT_DISABLED, endpoint)
        disabled = True
    endpoint.updated_at = tx.now
    tx.store.update_endpoint(endpoint)
    return disabled


def hold_back(kasse: Kasse, delivery: Delivery, delay_s: int, *, at: datetime | None) -> None:
    """The fault switch holds a delivery back: its next attempt moves later, its lease is let go."""
    with kasse.unit(merchant_id=delivery.merchant_id, at=at) as tx:
        current = tx.store.get_delivery(merchant_id=delivery.merchant_id, delivery_id=delivery.id, for_update=True)
        if current is not None and current.next_attempt_at is not None:
            current.next_attempt_at = current.next_attempt_at + timedelta(seconds=delay_s)
            current.leased_until, current.lease_token, current.updated_at = None, None, tx.now
            tx.store.update_delivery(current)
