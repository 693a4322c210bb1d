"""Timers: deadlines on the merchant's clock, fired exactly once, in due order.

Advancing a clock fires every timer that falls due before the call returns, each at its own due time,
each in its own transaction (a timer that fires creates further timers that may fall due in the
same advance). On PostgreSQL, concurrent schedulers claim timers with ``FOR UPDATE SKIP LOCKED``.

Timer kinds: the engine's own (``TimerKind``, handled here) and those a dialect brings, handed to the
engine explicitly: ``Kasse(db, hooks=Hooks(..., timer_handlers={"klarna_session_expiry": expire_session}))``, each a
``handler(tx, subject_id)`` run in the unit of work that fires the timer, on the merchant's clock; a
dialect schedules one with ``tx.schedule("klarna_session_expiry", subject_id, after_s=...)``. A timer of
a kind no handler is given for (a dialect's kind in a database served without that dialect) is logged
and left unfired: it fires once a server that knows its kind advances past it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kasse.domain.clock import MerchantClock
from kasse.domain.errors import NotFound
from kasse.domain.models import TimerKind
from kasse.engine import captures, payments, refunds, serial
from kasse.engine.unit import Kasse, TimerHandler, Tx

__all__ = [
    "ClockReading",
    "Fired",
    "fire_due",
    "fire_until",
    "freeze_clock",
    "move_clock",
    "next_timer_due",
    "read_clock",
    "resume_clock",
]

log = logging.getLogger(__name__)

ENGINE_HANDLERS: dict[str, TimerHandler] = {
    TimerKind.PAYMENT_EXPIRY: payments.expire,
    TimerKind.AUTHORIZATION_EXPIRY: payments.authorization_expired,
    TimerKind.CAPTURE_SETTLEMENT: captures.settle_capture,
    TimerKind.REFUND_SETTLEMENT: refunds.settle_refund,
    TimerKind.SCENARIO_APPROVAL: payments.scenario_approval,
}

# A runaway chain of timers (each creating one due at once) must not hang an advance.
MAX_TIMERS_PER_RUN = 10_000_000
# Timers fired per transaction: fewer commits, while a SQLite writer still holds the lock only briefly.
BATCH = 200


@dataclass(frozen=True, slots=True)
class Fired:
    timer_id: str
    kind: str  # a TimerKind, or a dialect's kind
    subject_id: str
    due_at: datetime
    # The events firing it produced: none when its subject had moved on (an expiry of a paid payment).
    events: tuple[str, ...] = ()

    @property
    def acted(self) -> bool:
        return bool(self.events)


@dataclass(frozen=True, slots=True)
class ClockReading:
    now: datetime
    frozen: bool
    offset_s: float
    fired: list[Fired]


def next_timer_due(kasse: Kasse, *, merchant_id: str) -> datetime | None:
    """When the next timer this engine can fire falls due (kinds without a handler wait unfired)."""
    with kasse.read() as store:
        return store.next_timer_due_at(merchant_id=merchant_id, kinds=list(handlers(kasse)))


def handlers(kasse: Kasse) -> dict[str, TimerHandler]:
    """Every kind this engine fires: its own and the dialects' given to ``Kasse``."""
    return {**ENGINE_HANDLERS, **kasse.timer_handlers}


def _log_unhandled(tx: Tx, until: datetime, known: dict[str, TimerHandler]) -> None:
    for kind, count in tx.store.due_timer_kinds(merchant_id=tx.merchant_id, until=until, excluding=list(known)):
        log.warning("%d timer(s) of kind %r of merchant %s are due but left unfired: no handler for the kind",
                    count, kind, tx.merchant_id)  # fmt: skip


def fire_batch(
    kasse: Kasse, *, merchant_id: str, until: datetime, at_due_time: bool = True, limit: int = BATCH
) -> list[Fired]:
    """Fire up to ``limit`` due timers, earliest first, in one transaction (one commit instead of one per
    timer). Each fires at its own due time. If the batch has scheduled a timer due before the next one of the
    batch, the batch ends there, so the next pass fires it in due order."""
    fired: list[Fired] = []
    known = handlers(kasse)
    with kasse.unit(merchant_id=merchant_id) as tx:
        # Claimed: locked on PostgreSQL (others skip them), under the single writer on SQLite; each
        # fires here once.
        batch = tx.store.due_timers(merchant_id=merchant_id, until=until, limit=limit, kinds=list(known))
        if not batch:
            _log_unhandled(tx, until, known)
        tx.store.load_timer_payments(merchant_id=merchant_id, timers=batch)
        marks: list[tuple[str, datetime]] = []
        seen, earliest = 0, None  # the earliest due time the batch has scheduled within ``until``
        for index, timer in enumerate(batch):
            if at_due_time:
                tx.now = timer.due_at
            marks.append((timer.id, tx.now))
            emitted = len(tx.events)
            known[timer.kind](tx, timer.subject_id)
            produced = tuple(event.type for event in tx.events[emitted:])
            fired.append(Fired(timer.id, timer.kind, timer.subject_id, timer.due_at, produced))
            following = batch[index + 1].due_at if index + 1 < len(batch) else None
            # Every timer the batch has scheduled so far, not only this handler's: one scheduled two
            # handlers back can fall due before the next of the batch.
            for scheduled in tx.timers[seen:]:
                if scheduled.due_at <= until and (earliest is None or scheduled.due_at < earliest):
                    earliest = scheduled.due_at
            seen = len(tx.timers)
            if following is not None and earliest is not None and earliest < following:
                break
        tx.store.mark_fired(marks)
    return fired


def fire_due(kasse: Kasse, *, merchant_id: str, until: datetime | None = None, at_due_time: bool = True) -> list[Fired]:
    """Fire every timer due by ``until`` (default: the merchant's now), earliest first."""
    fired: list[Fired] = []
    while len(fired) < MAX_TIMERS_PER_RUN:
        limit = until if until is not None else kasse.merchant_now(merchant_id=merchant_id)
        batch = fire_batch(kasse, merchant_id=merchant_id, until=limit, at_due_time=at_due_time)
        if not batch:
            break
        fired += batch
    return fired


def _reading(clock: MerchantClock, now: datetime, fired: list[Fired]) -> ClockReading:
    return ClockReading(now, clock.frozen, clock.offset_us / 1_000_000, fired)


def read_clock(kasse: Kasse, *, merchant_id: str) -> ClockReading:
    with kasse.read() as store:
        merchant = store.get_merchant(merchant_id=merchant_id)
    if merchant is None:
        raise NotFound("merchant", merchant_id)
    clock = MerchantClock(merchant.clock_offset_us, merchant.clock_frozen_at)
    return _reading(clock, clock.now(kasse.wall()), [])


def move_clock(kasse: Kasse, *, merchant_id: str, seconds: float, then: Callable[[Tx], None] | None = None) -> datetime:
    """Move the merchant's clock forward (nothing fires yet); returns the new time. ``then`` writes in the
    same transaction (an advance's idempotency key: the move happens once)."""
    with kasse.unit(merchant_id=merchant_id, lock_merchant=True) as tx:
        clock = tx.clock.advanced(seconds, kasse.wall())
        tx.store.set_clock(merchant_id=merchant_id, offset_us=clock.offset_us, frozen_at=clock.frozen_at)
        if then is not None:
            then(tx)
        return clock.now(kasse.wall())


def fire_until(kasse: Kasse, *, merchant_id: str, until: datetime) -> list[Fired]:
    """Fire every timer due by ``until``, each at its due time (under the merchant's clock lock)."""
    fired: list[Fired] = []
    while len(fired) < MAX_TIMERS_PER_RUN:
        batch = serial.retrying(lambda: fire_batch(kasse, merchant_id=merchant_id, until=until), pause=kasse.pause)
        fired += batch
        if not batch:
            due = next_timer_due(kasse, merchant_id=merchant_id)
            if due is None or due > until:
                break
            kasse.pause(0.005)  # claimed by a pass that does not take the clock lock (a test's fire_due)
    return fired


def freeze_clock(kasse: Kasse, *, merchant_id: str) -> ClockReading:
    with kasse.unit(merchant_id=merchant_id, lock_merchant=True) as tx:
        clock = tx.clock.freeze(kasse.wall())
        tx.store.set_clock(merchant_id=merchant_id, offset_us=clock.offset_us, frozen_at=clock.frozen_at)
        return _reading(clock, clock.now(kasse.wall()), [])


def resume_clock(kasse: Kasse, *, merchant_id: str) -> ClockReading:
    with kasse.unit(merchant_id=merchant_id, lock_merchant=True) as tx:
        clock = tx.clock.resume(kasse.wall())
        tx.store.set_clock(merchant_id=merchant_id, offset_us=clock.offset_us, frozen_at=clock.frozen_at)
        return _reading(clock, clock.now(kasse.wall()), [])


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``6h``, ``14d``, ``1d12h`` → seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    text = text.strip().lower()
    if not text:
        raise ValueError("empty duration")
    try:
        return float(text)
    except ValueError:
        pass
    total, number = 0.0, ""
    for ch in text:
        if ch.isdigit() or ch == ".":
            number += ch
        elif ch in units and number:
            total += float(number) * units[ch]
            number = ""
        else:
            raise ValueError(f"invalid duration {text!r}: use e.g. 90s, 15m, 6h, 14d")
    if number:
        raise ValueError(f"invalid duration {text!r}: the last number has no unit")
    return total
