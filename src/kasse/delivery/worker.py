"""The delivery worker: claims due deliveries under a lease, sends them, records every attempt.

At-least-once: a worker that dies between sending and recording leaves the lease to run out, and the
delivery is sent again. Receivers deduplicate by the event id (``webhook-id`` for native endpoints).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import httpx

from kasse.delivery.faults import FaultDice
from kasse.delivery.render import DeliveryPolicy, Rendered, policy_for, renderer_for
from kasse.domain.clock import WallClock, monotonic_s, system_wall_clock
from kasse.domain.errors import NotFound
from kasse.domain.events import EventType
from kasse.domain.webhooks import (
    DISABLE_AFTER_FAILING_S,
    Delivery,
    DeliverySettings,
    DeliveryStatus,
    EndpointStatus,
    Faults,
    WebhookEndpoint,
    retry_delay_s,
)
from kasse.engine.unit import Kasse, Tx

__all__ = ["Deliverer", "Outcome"]

log = logging.getLogger(__name__)

EXCERPT_CHARS = 2_000
LEASE_MARGIN_S = 5.0


@dataclass(frozen=True, slots=True)
class Profile:
    settings: DeliverySettings
    faults: Faults
    dice: FaultDice


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: str
    status: int | None
    error: str | None
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error is None


class Deliverer:
    def __init__(
        self, kasse: Kasse, *, base_url: str, client: httpx.Client | None = None, timeout_s: float = 10.0,
        lease_s: float = 60.0, batch: int = 20, signing_clock: WallClock = system_wall_clock,
    ) -> None:  # fmt: skip
        self.kasse = kasse
        # Signature timestamps are checked by receivers against their own clock: always real time,
        # whatever the merchant's (or a test's) clock says.
        self.signing_clock = signing_clock
        self.base_url = base_url
        self.client = client or httpx.Client(timeout=timeout_s, follow_redirects=False)
        self.lease = timedelta(seconds=lease_s)
        self.batch = batch

    def close(self) -> None:
        self.client.close()

    # --- claiming ------------------------------------------------------------------------------

    def claim(self, *, merchant_id: str, until: datetime) -> list[Delivery]:
        wall = self.kasse.wall()
        with self.kasse.unit(merchant_id=merchant_id) as tx:
            return tx.store.claim_due_deliveries(
                merchant_id=merchant_id, until=until, wall=wall, lease_until=wall + self.lease,
                token=secrets.token_hex(8), limit=self.batch,
            )  # fmt: skip

    def renew(self, delivery: Delivery, timeout_s: float) -> bool:
        """Right before a send: the lease must still be ours, and must outlast this one request (a batch
        may take longer than the lease it was claimed with; the rest of it may be another worker's now)."""
        assert delivery.lease_token is not None
        lease = max(self.lease, timedelta(seconds=timeout_s + LEASE_MARGIN_S))
        with self.kasse.unit(merchant_id=delivery.merchant_id) as tx:
            return tx.store.renew_lease(
                merchant_id=delivery.merchant_id, delivery_id=delivery.id, token=delivery.lease_token,
                until=self.kasse.wall() + lease,
            )  # fmt: skip

    def deliver_due(self, *, merchant_id: str, until: datetime | None = None, at_due_time: bool = False) -> int:
        """Send every delivery due by ``until`` (default: the merchant's now); returns attempts made."""
        sent = 0
        profile = self.profile(merchant_id)
        while True:
            limit = until if until is not None else self.kasse.merchant_now(merchant_id=merchant_id)
            claimed = self.claim(merchant_id=merchant_id, until=limit)
            for delivery in profile.dice.order(claimed):
                at = delivery.next_attempt_at if at_due_time else None
                if not self.renew(delivery, profile.settings.timeout_s):
                    continue  # another worker holds it now
                if profile.dice.hold_back(delivery):
                    self._hold_back(delivery, profile.faults.delay_s, at=at)
                    continue
                self.attempt(delivery, at=at, profile=profile)
                sent += 1
            if len(claimed) < self.batch:
                return sent

    def profile(self, merchant_id: str) -> Profile:
        """The merchant's delivery settings and sandbox faults, read once per pass."""
        with self.kasse.read() as store:
            settings = store.merchant_settings(merchant_id=merchant_id)
        faults = Faults.from_dict(settings.get("faults"))
        return Profile(DeliverySettings.from_dict(settings.get("webhooks")), faults, FaultDice(faults))

    def _hold_back(self, delivery: Delivery, delay_s: int, *, at: datetime | None) -> None:
        with self.kasse.unit(merchant_id=delivery.merchant_id, at=at) as tx:
            current = tx.store.get_delivery(merchant_id=delivery.merchant_id, delivery_id=delivery.id, for_update=True)
            if current is not None and current.next_attempt_at is not None:
                current.next_attempt_at = current.next_attempt_at + timedelta(seconds=delay_s)
                current.leased_until, current.lease_token, current.updated_at = None, None, tx.now
                tx.store.update_delivery(current)

    def run_once(self) -> int:
        with self.kasse.read() as store:
            merchant_ids = store.merchants_with_due_deliveries()
        sent = 0
        for merchant_id in merchant_ids:
            try:
                # A read first: most passes find nothing due, and need not take the write lock.
                with self.kasse.read() as store:
                    due = store.next_delivery_due(merchant_id=merchant_id)
                if due is None or due > self.kasse.merchant_now(merchant_id=merchant_id):
                    continue
                sent += self.deliver_due(merchant_id=merchant_id)
            except Exception:  # one merchant's trouble must not stop the others; logged once
                log.exception("deliveries of merchant %s failed", merchant_id)
        return sent

    # --- one attempt ---------------------------------------------------------------------------

    def attempt(
        self,
        delivery: Delivery,
        *,
        at: datetime | None = None,
        trigger: str = "schedule",
        profile: Profile | None = None,
    ) -> Outcome:
        with self.kasse.read() as store:
            event = store.get_event(merchant_id=delivery.merchant_id, event_id=delivery.event_id)
            endpoint = store.get_endpoint(merchant_id=delivery.merchant_id, endpoint_id=delivery.endpoint_id)
        if event is None or endpoint is None:
            raise NotFound("delivery", delivery.id)
        rendered = renderer_for(endpoint.dialect)(
            event, endpoint, base_url=self.base_url, wall_s=int(self.signing_clock().timestamp())
        )
        profile = profile or self.profile(delivery.merchant_id)
        policy = policy_for(endpoint.dialect)
        settings = profile.settings
        if policy.retry_schedule_s is not None:
            settings = replace(settings, retry_schedule_s=policy.retry_schedule_s)
        if trigger == "schedule" and profile.dice.drop():
            outcome: Outcome = _Failed(delivery.id, None, "dropped by the sandbox fault switch", 0)
        else:
            outcome = self._send(delivery.id, rendered, settings.timeout_s, policy)
        self._record(delivery, endpoint, rendered, outcome, at=at, trigger=trigger, schedule=settings)
        if outcome.ok and trigger == "schedule" and profile.dice.duplicate():
            again = self._send(delivery.id, rendered, settings.timeout_s, policy)
            self._record(delivery, endpoint, rendered, again, at=at, trigger="duplicate", schedule=settings)
        return outcome

    def _send(
        self, delivery_id: str, rendered: Rendered, timeout_s: float, policy: DeliveryPolicy | None = None
    ) -> Outcome:
        started = monotonic_s()
        try:
            response = self.client.request(
                rendered.method, rendered.url, content=rendered.body or None, headers=rendered.headers,
                timeout=timeout_s,
            )  # fmt: skip
        except httpx.HTTPError as exc:
            latency = int((monotonic_s() - started) * 1000)
            return _Failed(delivery_id, None, f"{type(exc).__name__}: {exc}"[:500], latency)
        latency = int((monotonic_s() - started) * 1000)
        excerpt = response.text[:EXCERPT_CHARS]
        error = None
        check = policy.acknowledged if policy is not None else None
        if check is not None and 200 <= response.status_code < 300 and not check(response.status_code, excerpt):
            error = "the answer did not acknowledge the notification"
        return _Answered(delivery_id, response.status_code, error, latency, excerpt)

    def _record(
        self, delivery: Delivery, endpoint: WebhookEndpoint, rendered: Rendered, outcome: Outcome, *,
        at: datetime | None, trigger: str, schedule: DeliverySettings,
    ) -> None:  # fmt: skip
        with self.kasse.unit(merchant_id=delivery.merchant_id, at=at) as tx:
            current = tx.store.get_delivery(merchant_id=delivery.merchant_id, delivery_id=delivery.id, for_update=True)
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
            ep = tx.store.get_endpoint(merchant_id=delivery.merchant_id, endpoint_id=endpoint.id, for_update=True)
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
                if ep is not None and _note_failure(tx, ep):
                    current.status, current.next_attempt_at = DeliveryStatus.SKIPPED, None
            tx.store.update_delivery(current)


def _note_failure(tx: Tx, endpoint: WebhookEndpoint) -> bool:
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


@dataclass(frozen=True, slots=True)
class _Answered(Outcome):
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class _Failed(Outcome):
    pass
