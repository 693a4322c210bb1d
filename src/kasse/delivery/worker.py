"""The delivery worker: claims due deliveries under a lease, sends them, records every attempt.

At-least-once: a worker that dies between sending and recording leaves the lease to run out, and the
delivery is sent again. Receivers deduplicate by the event id (``webhook-id`` for native endpoints).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx

from kasse.delivery.batch import (
    MAX_CHAIN,
    RECORD_EVERY,
    Job,
    Renderings,
    chains_of,
    due_order,
    jobs_of,
    send_all,
)  # fmt: skip
from kasse.delivery.faults import Profile
from kasse.delivery.outcome import Failed, Outcome
from kasse.delivery.recording import Loaded, hold_back, record_attempt
from kasse.delivery.render import Outbound, Rendered
from kasse.delivery.sender import Sender
from kasse.domain.clock import WallClock, system_wall_clock
from kasse.domain.errors import NotFound
from kasse.domain.models import Event
from kasse.domain.webhooks import (
    Delivery,
    DeliverySettings,
    WebhookEndpoint,
)
from kasse.engine import serial
from kasse.engine.targets import TargetGuard
from kasse.engine.unit import Kasse

__all__ = ["MAX_CHAIN", "RECORD_EVERY", "Deliverer", "Outcome", "Profile"]

log = logging.getLogger(__name__)

LEASE_MARGIN_S = 5.0
# Requests in flight at once per endpoint (one chain of a payment's events each; KASSE_DELIVERY_CONCURRENCY),
# and in all per worker, at most ENDPOINTS_IN_FLIGHT times that.
SEND_CONCURRENCY = 8
ENDPOINTS_IN_FLIGHT = 4


class Deliverer:
    # Size rule exception: keyword-only settings, each with a default.
    def __init__(  # noqa: PLR0913
        self, kasse: Kasse, *, outbound: Mapping[str, Outbound], base_url: str, client: httpx.Client | None = None,
        timeout_s: float = 10.0, lease_s: float = 60.0, batch: int = 100,
        signing_clock: WallClock = system_wall_clock, concurrency: int = SEND_CONCURRENCY,
        targets: TargetGuard | None = None,
    ) -> None:  # fmt: skip
        self.kasse = kasse
        self.outbound = outbound  # dialect name → how its receivers are sent to (Dialect.outbound)
        # Every send, whatever triggered it (schedule, clock advance, manual retry), goes through it.
        self.sender = Sender(targets or TargetGuard(), client=client, timeout_s=timeout_s)
        # Signature timestamps are checked by receivers against their own clock: always real time,
        # whatever the merchant's (or a test's) clock says.
        self.signing_clock = signing_clock
        self.base_url = base_url
        self.lease = timedelta(seconds=lease_s)
        self.batch = batch
        if concurrency < 1:
            raise ValueError(f"delivery concurrency must be at least 1, not {concurrency}")
        self.concurrency = concurrency
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.sender.close()

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
                    hold_back(self.kasse, delivery, profile.faults.delay_s, at=at)
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
                e: store.get_endpoint(merchant_id=merchant_id, endpoint_id=e) for e in {d.endpoint_id for d in claimed}
            }
        chains, later = chains_of(claimed, events, endpoints)
        if not chains:
            return 0
        timeout_s = profile.settings.timeout_s
        owned = self._lease_chains(merchant_id, claimed, chains, later, timeout_s)
        wall_s = int(self.signing_clock().timestamp())

        render = Renderings(self.base_url, wall_s)

        def send_chain(chain: list[Job]) -> list[tuple[Job, Outcome]]:
            return [(job, self.sender.send(job.delivery.id, job.rendered, timeout_s, job.policy)) for job in chain]

        def record(results: list[tuple[Job, Outcome]]) -> None:
            with self.kasse.unit(merchant_id=merchant_id) as tx:
                # The batch's deliveries read (locked) in one query; the attempts and updates leave
                # together at the unit's flush.
                loaded = Loaded.of(tx, [job.delivery for job, _ in results])
                for job, outcome in sorted(results, key=due_order):
                    if at_due_time and job.delivery.next_attempt_at is not None:
                        tx.now = job.delivery.next_attempt_at  # a clock advance: each at its due time
                    record_attempt(
                        tx, job.delivery, job.endpoint, job.rendered, outcome, trigger="schedule",
                        schedule=job.settings, loaded=loaded,
                    )  # fmt: skip

        total = self.concurrency * ENDPOINTS_IN_FLIGHT
        if self._pool is None:
            self._pool = ThreadPoolExecutor(total, thread_name_prefix="kasse-delivery")
        jobs = jobs_of(chains, owned, events, endpoints, self.outbound, profile, render)
        return send_all(self._pool, self.concurrency, jobs, send_chain, record, total=total)

    def _lease_chains(
        self, merchant_id: str, claimed: list[Delivery], chains: list[list[Delivery]], later: list[str],
        timeout_s: float,
    ) -> set[str]:  # fmt: skip
        """Renew the chains' leases (to outlast the longest chain even if every request of it times out)
        and let go of the rest; returns the ids still ours."""
        lease = max(self.lease, timedelta(seconds=timeout_s * max(map(len, chains)) + LEASE_MARGIN_S))
        token = claimed[0].lease_token
        assert token is not None
        with self.kasse.unit(merchant_id=merchant_id) as tx:
            owned = tx.store.renew_leases(
                merchant_id=merchant_id, delivery_ids=[d.id for chain in chains for d in chain],
                token=token, until=self.kasse.wall() + lease,
            )  # fmt: skip
            tx.store.release_leases(merchant_id=merchant_id, delivery_ids=later, token=token)
        return owned

    def profile(self, merchant_id: str, settings: dict[str, Any] | None = None) -> Profile:
        """The merchant's delivery settings and sandbox faults, read once per pass (unless given)."""
        if settings is None:
            with self.kasse.read() as store:
                settings = store.merchant_settings(merchant_id=merchant_id)
        return Profile.of(settings)

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
            outcome: Outcome = Failed(delivery.id, None, "dropped by the sandbox fault switch", 0)
        else:
            outcome = self.sender.send(delivery.id, rendered, settings.timeout_s, policy)
        self._record(delivery, endpoint, rendered, outcome, at=at, trigger=trigger, schedule=settings)
        if outcome.ok and trigger == "schedule" and profile.dice.duplicate():
            again = self.sender.send(delivery.id, rendered, settings.timeout_s, policy)
            self._record(delivery, endpoint, rendered, again, at=at, trigger="duplicate", schedule=settings)
        return outcome

    def _record(
        self, delivery: Delivery, endpoint: WebhookEndpoint, rendered: Rendered, outcome: Outcome, *,
        at: datetime | None, trigger: str, schedule: DeliverySettings,
    ) -> None:  # fmt: skip
        with self.kasse.unit(merchant_id=delivery.merchant_id, at=at) as tx:
            record_attempt(tx, delivery, endpoint, rendered, outcome, trigger=trigger, schedule=schedule)
