"""The delivery worker: claims due deliveries under a lease, sends them, records every attempt.

At-least-once: a worker that dies between sending and recording leaves the lease to run out, and the
delivery is sent again. Receivers deduplicate by the event id (``webhook-id`` for native endpoints).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import httpx

from kasse.delivery.faults import FaultDice
from kasse.delivery.pinned import send_pinned
from kasse.delivery.render import DeliveryPolicy, Outbound, Rendered
from kasse.domain.clock import WallClock, monotonic_s, system_wall_clock
from kasse.domain.errors import NotFound
from kasse.domain.events import EventType
from kasse.domain.models import Event
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
from kasse.engine import serial
from kasse.engine.targets import TargetError, TargetGuard
from kasse.engine.unit import Kasse, Tx

__all__ = ["Deliverer", "Outcome"]

log = logging.getLogger(__name__)

EXCERPT_CHARS = 2_000
LEASE_MARGIN_S = 5.0
SEND_CONCURRENCY = 8  # requests in flight at once per worker (one chain of a payment's events each)
MAX_CHAIN = 4  # a payment's events sent one after another in one pass; later ones wait for the next
RECORD_EVERY = 16  # answers recorded per transaction


@dataclass(frozen=True, slots=True)
class Profile:
    settings: DeliverySettings
    faults: Faults
    dice: FaultDice


@dataclass(frozen=True, slots=True)
class _Job:
    """One delivery of a batch, ready to send."""

    delivery: Delivery
    endpoint: WebhookEndpoint
    rendered: Rendered
    policy: DeliveryPolicy
    settings: DeliverySettings


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
        self, kasse: Kasse, *, outbound: Mapping[str, Outbound], base_url: str, client: httpx.Client | None = None,
        timeout_s: float = 10.0, lease_s: float = 60.0, batch: int = 100,
        signing_clock: WallClock = system_wall_clock, concurrency: int = SEND_CONCURRENCY,
        targets: TargetGuard | None = None,
    ) -> None:  # fmt: skip
        self.kasse = kasse
        self.outbound = outbound  # dialect name → how its receivers are sent to (Dialect.outbound)
        # Every send, whatever triggered it (schedule, clock advance, manual retry), is checked here.
        self.targets = targets or TargetGuard()
        # Signature timestamps are checked by receivers against their own clock: always real time,
        # whatever the merchant's (or a test's) clock says.
        self.signing_clock = signing_clock
        self.base_url = base_url
        # Made on first use: building its TLS context costs a fifth of a second at start.
        self._client = client
        self._client_lock = threading.Lock()
        self._timeout_s = timeout_s
        self.lease = timedelta(seconds=lease_s)
        self.batch = batch
        self.concurrency = concurrency
        self._pool: ThreadPoolExecutor | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    # No proxy from the environment: it would connect to the name, not the checked address.
                    self._client = httpx.Client(timeout=self._timeout_s, follow_redirects=False, trust_env=False)
        return self._client

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._client is not None:
            self._client.close()

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
            owned = tx.store.renew_leases(
                merchant_id=delivery.merchant_id, delivery_ids=[delivery.id], token=delivery.lease_token,
                until=self.kasse.wall() + lease,
            )  # fmt: skip
        return delivery.id in owned

    def deliver_due(
        self, *, merchant_id: str, until: datetime | None = None, at_due_time: bool = False,
        settings: dict[str, Any] | None = None,
    ) -> int:  # fmt: skip
        """Send every delivery due by ``until`` (default: the merchant's now); returns attempts made."""
        sent = 0
        profile = self.profile(merchant_id, settings)
        while True:
            limit = until if until is not None else self.kasse.merchant_now(merchant_id=merchant_id)
            claimed = self.claim(merchant_id=merchant_id, until=limit)
            if not profile.faults.active:
                # The batch goes out concurrently. (The fault switch draws its dice in order, one
                # delivery after another: it keeps the one-by-one path below.)
                sent += self._deliver_batch(merchant_id, claimed, profile, at_due_time=at_due_time)
                if len(claimed) < self.batch:
                    return sent
                continue
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

    def _deliver_batch(
        self, merchant_id: str, claimed: list[Delivery], profile: Profile, *, at_due_time: bool = False
    ) -> int:
        """Send a claimed batch with up to ``concurrency`` requests in flight. The events of one payment
        to one endpoint form a chain, sent in order; the leases are renewed once for the batch, long
        enough for the longest chain; the answers are recorded a few to a transaction."""
        if not claimed:
            return 0
        with self.kasse.read() as store:
            found = store.get_events(merchant_id=merchant_id, event_ids=sorted({d.event_id for d in claimed}))
            events: dict[str, Event | None] = {d.event_id: found.get(d.event_id) for d in claimed}
            endpoints = {
                eid: store.get_endpoint(merchant_id=merchant_id, endpoint_id=eid)
                for eid in {d.endpoint_id for d in claimed}
            }
        chains: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
        later: list[str] = []
        for d in claimed:
            event = events[d.event_id]
            if event is None or endpoints[d.endpoint_id] is None:
                continue
            chain = chains[(d.endpoint_id, event.payment_id or event.id)]
            if len(chain) < MAX_CHAIN:
                chain.append(d)
            else:
                later.append(d.id)
        if not chains:
            return 0
        longest = max(len(chain) for chain in chains.values())
        timeout_s = profile.settings.timeout_s
        # The lease must outlast the longest chain even if every request of it times out.
        lease = max(self.lease, timedelta(seconds=timeout_s * longest + LEASE_MARGIN_S))
        token = claimed[0].lease_token
        assert token is not None
        with self.kasse.unit(merchant_id=merchant_id) as tx:
            owned = tx.store.renew_leases(
                merchant_id=merchant_id, delivery_ids=[d.id for chain in chains.values() for d in chain],
                token=token, until=self.kasse.wall() + lease,
            )  # fmt: skip
            tx.store.release_leases(merchant_id=merchant_id, delivery_ids=later, token=token)
        wall_s = int(self.signing_clock().timestamp())
        jobs: list[list[_Job]] = []
        for chain in chains.values():
            chain_jobs = []
            for d in chain:
                if d.id not in owned:
                    continue  # another worker holds it now
                endpoint = endpoints[d.endpoint_id]
                event = events[d.event_id]
                assert endpoint is not None and event is not None
                outbound = self.outbound[endpoint.dialect]
                rendered = outbound.renderer(event, endpoint, base_url=self.base_url, wall_s=wall_s)
                policy = outbound.policy
                settings = profile.settings
                if policy.retry_schedule_s is not None:
                    settings = replace(settings, retry_schedule_s=policy.retry_schedule_s)
                chain_jobs.append(_Job(d, endpoint, rendered, policy, settings))
            if chain_jobs:
                jobs.append(chain_jobs)

        def send_chain(chain: list[_Job]) -> list[tuple[_Job, Outcome]]:
            return [(job, self._send(job.delivery.id, job.rendered, timeout_s, job.policy)) for job in chain]

        def record(results: list[tuple[_Job, Outcome]]) -> None:
            with self.kasse.unit(merchant_id=merchant_id) as tx:
                for job, outcome in sorted(results, key=_due_order):
                    if at_due_time and job.delivery.next_attempt_at is not None:
                        tx.now = job.delivery.next_attempt_at  # a clock advance: each at its due time
                    self._record_in(
                        tx, job.delivery, job.endpoint, job.rendered, outcome, trigger="schedule",
                        schedule=job.settings,
                    )  # fmt: skip

        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="kasse-delivery")
        # The threads only send; answers are recorded here as they come in, RECORD_EVERY to a
        # transaction: a worker that dies leaves at most those and the requests in flight unrecorded
        # (sent again when their lease runs out).
        # New chains are handed out only as answers are recorded, so that bound holds however fast the
        # receiver answers.
        done: list[tuple[_Job, Outcome]] = []
        sent = 0
        waiting: set[Future[list[tuple[_Job, Outcome]]]] = set()
        todo = iter(jobs)
        while True:
            while len(waiting) < self.concurrency and (pending := next(todo, None)) is not None:
                waiting.add(self._pool.submit(send_chain, pending))
            if not waiting:
                break
            finished, waiting = wait(waiting, return_when=FIRST_COMPLETED)
            for future in finished:
                done += future.result()
            if len(done) >= RECORD_EVERY or not waiting:
                record(done)
                sent, done = sent + len(done), []
        return sent

    def profile(self, merchant_id: str, settings: dict[str, Any] | None = None) -> Profile:
        """The merchant's delivery settings and sandbox faults, read once per pass (unless given)."""
        if settings is None:
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
                    settings = store.merchant_settings(merchant_id=merchant_id)
                if due is None or due > self.kasse.merchant_now(merchant_id=merchant_id):
                    continue
                with serial.clock_held(self.kasse, merchant_id=merchant_id, shared=True) as held:
                    if held:  # else a clock advance runs, and sends these each at its due time
                        sent += self.deliver_due(merchant_id=merchant_id, settings=settings)
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
        outbound = self.outbound[endpoint.dialect]
        rendered = outbound.renderer(
            event, endpoint, base_url=self.base_url, wall_s=int(self.signing_clock().timestamp())
        )
        profile = profile or self.profile(delivery.merchant_id)
        policy = outbound.policy
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
            target = self.targets.resolve(rendered.url)  # again at each send: DNS may have changed
            response = send_pinned(
                self.client, target, rendered.method, rendered.url, content=rendered.body or None,
                headers=rendered.headers, timeout=timeout_s,
            )  # fmt: skip
        except TargetError as exc:
            return _Failed(delivery_id, None, str(exc)[:500], int((monotonic_s() - started) * 1000))
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
            self._record_in(tx, delivery, endpoint, rendered, outcome, trigger=trigger, schedule=schedule)

    def _record_in(
        self, tx: Tx, delivery: Delivery, endpoint: WebhookEndpoint, rendered: Rendered, outcome: Outcome, *,
        trigger: str, schedule: DeliverySettings,
    ) -> None:  # fmt: skip
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
        # The endpoint row is locked only to change it: concurrent successes must not queue on it.
        ep = tx.store.get_endpoint(merchant_id=delivery.merchant_id, endpoint_id=endpoint.id)
        if ep is not None and (not outcome.ok or ep.failing_since is not None):
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


def _due_order(result: tuple[_Job, Outcome]) -> tuple[datetime, str]:
    delivery = result[0].delivery
    return (delivery.next_attempt_at or delivery.created_at, delivery.id)


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
