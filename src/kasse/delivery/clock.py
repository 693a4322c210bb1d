"""Advancing a clock with deliveries: timers and due delivery attempts happen in due order, each at
its own due time, before the call returns (a receiver answering 500, 500, 200 sees three attempts
when the clock is advanced past the second retry)."""

from __future__ import annotations

import time
from dataclasses import replace

from kasse.delivery.worker import Deliverer
from kasse.engine import timers
from kasse.engine.timers import ClockReading, Fired

__all__ = ["advance"]

# Bounds one advance: a receiver that never answers 2xx runs out of retries long before this.
MAX_STEPS = 10_000_000


def advance(deliverer: Deliverer, *, merchant_id: str, seconds: float) -> tuple[ClockReading, int]:
    """Advance the merchant's clock; returns the reading (with fired timers) and the attempts made."""
    kasse = deliverer.kasse
    with timers.advancing_clock(kasse, merchant_id=merchant_id) as run:
        fired, attempts = _advance(deliverer, run, merchant_id=merchant_id, seconds=seconds)
    reading = timers.read_clock(kasse, merchant_id=merchant_id)
    return replace(reading, fired=fired), attempts


def _advance(deliverer: Deliverer, run: timers.Advance, *, merchant_id: str, seconds: float) -> tuple[list[Fired], int]:
    kasse = deliverer.kasse
    target = timers.move_clock(kasse, merchant_id=merchant_id, seconds=seconds)
    fired: list[Fired] = []
    attempts = 0
    for _ in range(MAX_STEPS):
        run.renew()
        timer_due = timers.next_timer_due(kasse, merchant_id=merchant_id)
        with kasse.read() as store:
            delivery_due = store.next_delivery_due(merchant_id=merchant_id)
        timer_next = timer_due is not None and timer_due <= target
        delivery_next = delivery_due is not None and delivery_due <= target
        if timer_next and (delivery_due is None or not delivery_next or timer_due <= delivery_due):  # type: ignore[operator]
            # Every timer due up to the next delivery attempt (or the target), in batches.
            until = delivery_due if delivery_next and delivery_due is not None else target
            batch = timers.fire_batch(kasse, merchant_id=merchant_id, until=until)
            if not batch:
                time.sleep(0.005)  # claimed by a scheduler pass that began before this advance
            fired += batch
        elif delivery_next:
            # Only the earliest due moment: its attempts may schedule retries that fall due before target.
            made = deliverer.deliver_due(merchant_id=merchant_id, until=delivery_due, at_due_time=True)
            attempts += made
            if made == 0:
                # Leased by a worker that claimed them before this advance began; it records them.
                # The timers still fall due before this call returns (a refund waiting on a settlement
                # must not be left behind).
                fired += timers.fire_due(kasse, merchant_id=merchant_id, until=target)
                break
        else:
            break
    return fired, attempts
