"""Advancing a clock with deliveries: timers and due delivery attempts happen in due order, each at
its own due time, before the call returns (a receiver answering 500, 500, 200 sees three attempts
when the clock is advanced past the second retry).

The advance holds the merchant's clock lock from before its move to its end (``engine.serial``): a
second advance waits for it, and the background scheduler and delivery worker leave the merchant
alone meanwhile (an advance first waits for a pass of theirs that is sending, so what it sends is
recorded, and dated, before the move).

Attempts go out a retry round at a time: every delivery due before the earliest due one's next retry
could be (the shortest wait of the retry schedules) and before the next timer is claimed at once and
sent concurrently (``Deliverer._deliver_batch``), each recorded at its own due time. A retry scheduled
in a round falls due after everything that round sent, so due order holds, and an advance makes one
pass per round instead of one per due moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from kasse.delivery.render import shortest_retry_s
from kasse.delivery.worker import LEASE_MARGIN_S, Deliverer
from kasse.domain.clock import monotonic_s
from kasse.domain.errors import Conflict, ErrorCode
from kasse.domain.webhooks import DISABLE_AFTER_FAILING_S
from kasse.engine import serial, timers
from kasse.engine.timers import ClockReading, Fired
from kasse.engine.unit import Kasse, Tx

__all__ = ["advance", "advance_held"]

# Bounds one advance: a receiver that never answers 2xx runs out of retries long before this.
MAX_STEPS = 10_000_000
_TICK = timedelta(microseconds=1)


def advance(deliverer: Deliverer, *, merchant_id: str, seconds: float) -> tuple[ClockReading, int]:
    """Advance the merchant's clock, after any advance of it still running; returns the reading (with
    fired timers) and the attempts made."""
    with serial.clock_held(deliverer.kasse, merchant_id=merchant_id, wait_s=serial.CLOCK_WAIT_S) as held:
        if not held:
            raise Conflict(ErrorCode.CLOCK_ADVANCE_RUNNING, "Another clock advance of this merchant is still running")
        return advance_held(deliverer, merchant_id=merchant_id, seconds=seconds)


def advance_held(
    deliverer: Deliverer, *, merchant_id: str, seconds: float, then: Callable[[Tx], None] | None = None
) -> tuple[ClockReading, int]:
    """``advance`` for a caller that holds the merchant's clock lock; ``then`` writes in the transaction
    of the move."""
    kasse = deliverer.kasse
    target = serial.retrying(lambda: timers.move_clock(kasse, merchant_id=merchant_id, seconds=seconds, then=then))
    fired, attempts = _catch_up(deliverer, merchant_id=merchant_id, target=target)
    reading = timers.read_clock(kasse, merchant_id=merchant_id)
    return replace(reading, fired=fired), attempts


def _round_s(deliverer: Deliverer, merchant_id: str) -> float:
    """How far past the earliest due delivery one pass reaches (0: that moment only)."""
    profile = deliverer.profile(merchant_id)
    if profile.faults.active:
        return 0.0  # the fault switch draws its dice one delivery after another, in due order
    with deliverer.kasse.read() as store:
        dialects = {e.dialect for e in store.enabled_endpoints(merchant_id=merchant_id)}
    return shortest_retry_s(profile.settings.retry_schedule_s, [deliverer.outbound[d].policy for d in sorted(dialects)])


def _catch_up(deliverer: Deliverer, *, merchant_id: str, target: datetime) -> tuple[list[Fired], int]:
    kasse = deliverer.kasse
    round_s = _round_s(deliverer, merchant_id)
    fired: list[Fired] = []
    attempts = 0
    for _ in range(MAX_STEPS):
        timer_due = timers.next_timer_due(kasse, merchant_id=merchant_id)
        with kasse.read() as store:
            delivery_due = store.next_delivery_due(merchant_id=merchant_id)
        timer_due = timer_due if timer_due is not None and timer_due <= target else None
        delivery_due = delivery_due if delivery_due is not None and delivery_due <= target else None
        if timer_due is not None and (delivery_due is None or timer_due <= delivery_due):
            # Every timer due up to the next delivery attempt (or the target).
            fired += timers.fire_until(kasse, merchant_id=merchant_id, until=delivery_due or target)
        elif delivery_due is not None:
            until = min(delivery_due + timedelta(seconds=round_s) - _TICK, target, _disabling(kasse, merchant_id))
            if timer_due is not None:
                until = min(until, timer_due - _TICK)  # a timer due at the same moment goes first
            made = _deliver(deliverer, merchant_id, max(until, delivery_due), due=delivery_due)
            if made is None:
                # Held by a lease that outlived every wait (a stuck sender): the timers still fall due
                # before this call returns (a refund waiting on a settlement must not be left behind).
                fired += timers.fire_until(kasse, merchant_id=merchant_id, until=target)
                break
            attempts += made
        else:
            break
    return fired, attempts


def _disabling(kasse: Kasse, merchant_id: str) -> datetime:
    """Where a round must end: the first failure at or after this disables an endpoint that has failed
    for days, and skips its other deliveries (a round reaching past it would send them all the same)."""
    with kasse.read() as store:
        since = [e.failing_since for e in store.enabled_endpoints(merchant_id=merchant_id) if e.failing_since]
    if not since:
        return datetime.max.replace(tzinfo=UTC)
    return min(since) + timedelta(seconds=DISABLE_AFTER_FAILING_S) - _TICK


def _deliver(deliverer: Deliverer, merchant_id: str, until: datetime, *, due: datetime) -> int | None:
    """Send what is due by ``until``, each dated at its due time. Deliveries leased by someone else (a
    replay requested through the API, a worker that died with a live lease) are waited for: until their
    holder records them (they are then due later, or done) or their lease runs out (then they are sent
    here). None if they are still held after the longest lease. ``due``: the earliest due delivery, as
    the caller just read it."""
    deadline = monotonic_s() + deliverer.lease.total_seconds() + LEASE_MARGIN_S
    while True:
        made = serial.retrying(lambda: deliverer.deliver_due(merchant_id=merchant_id, until=until, at_due_time=True))
        if made:
            return made
        with deliverer.kasse.read() as store:
            if store.next_delivery_due(merchant_id=merchant_id) != due:
                return 0  # its holder recorded it
        if monotonic_s() >= deadline:
            return None
        time.sleep(0.02)
