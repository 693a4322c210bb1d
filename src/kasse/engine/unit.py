"""The unit of work: a transaction opened for one merchant at one instant of its clock.

Everything a use case changes (state, ledger transfers, events, timers) is written through it and
committed together, or not at all. Events and timers are buffered and flushed at commit so a use case
that raises leaves nothing behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

from anyio import to_thread
from sqlalchemy import Connection

from kasse.domain.clock import MerchantClock, Pause, WallClock, real_pause, system_wall_clock
from kasse.domain.errors import NotFound
from kasse.domain.ids import PREFIXES, new_id
from kasse.domain.ledger import Transfer, check_transfer
from kasse.domain.models import Capture, Event, Payment, Refund, Timer, TimerKind, snapshot
from kasse.domain.rules import ProviderRules
from kasse.domain.webhooks import Delivery, DeliveryStatus, WebhookEndpoint, matches
from kasse.storage.db import Database
from kasse.storage.store import ExternalId, Store

P = ParamSpec("P")
R = TypeVar("R")

__all__ = ["Derivers", "EventDeriver", "Hooks", "Kasse", "TimerHandler", "Tx", "dialect_of"]

# A dialect whose notifications are not the engine's events (Stripe: `source.chargeable` where the
# engine says `payment.authorized`) derives its own from each engine event of its payments, in the same
# unit of work, so they leave through the same outbox. They are derived once, when the unit flushes,
# from the final state of each object (a payment authorized, captured and completed in one unit is read
# and rendered then, not after each step). Their type is prefixed with the dialect
# (`stripe:source.chargeable`); only that dialect's endpoints receive them, and that dialect's endpoints
# receive nothing else. The derivers come from the dialect registry, handed to `Kasse` by whoever builds
# it (`kasse.dialects.registry.hooks`).
EventDeriver = Callable[["Tx", Event, "Payment | Capture | Refund"], list[Event]]
Derivers = Mapping[str, EventDeriver]


def dialect_of(event_type: str) -> str | None:
    """The dialect a derived event belongs to (``stripe:charge.succeeded`` → ``stripe``)."""
    prefix, sep, _ = event_type.partition(":")
    return prefix if sep else None


@dataclass
class Tx:
    store: Store
    merchant_id: str
    clock: MerchantClock
    now: datetime  # the merchant's clock for this transaction
    wall: WallClock
    hooks: Hooks
    events: list[Event] = field(default_factory=list)
    # Engine events of payments with an origin that derives its own, with their objects: derived at flush.
    derive: list[tuple[Event, Payment | Capture | Refund, EventDeriver]] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # payment id → origin, as payments are read

    def __post_init__(self) -> None:
        # Inserts and payment updates wait for the flush (``send_writes``), which sends them together.
        self.store.write_behind = self.store.defer_writes = True

    @property
    def derivers(self) -> Derivers:
        return self.hooks.derivers

    def rules_of(self, origin: str) -> ProviderRules:
        """The rules of the provider a payment came through (its ``origin``, a dialect's name)."""
        rules = self.hooks.rules.get(origin)
        if rules is None:
            raise LookupError(f"no rules for origin {origin!r}: the engine was built without that dialect")
        return rules

    def new_id(self, kind: str) -> str:
        return new_id(PREFIXES[kind], self.wall())

    def emit(self, event_type: str, obj: Payment | Capture | Refund | WebhookEndpoint) -> Event:
        kind = PREFIXES_BY_CLASS[type(obj)]
        payment_id = obj.id if isinstance(obj, Payment) else getattr(obj, "payment_id", None)
        event = Event(
            id=self.new_id("event"),
            merchant_id=self.merchant_id,
            type=event_type,
            object_type=kind,
            object_id=obj.id,
            payment_id=payment_id,
            data={"object": _public(snapshot(obj))},
            created_at=self.now,
        )
        self.events.append(event)
        if payment_id is not None and not isinstance(obj, WebhookEndpoint) and self.derivers:
            deriver = self.derivers.get(self._origin(obj, payment_id))
            if deriver is not None:
                self.derive.append((event, obj, deriver))
        return event

    def _origin(self, obj: Payment | Capture | Refund, payment_id: str) -> str:
        if isinstance(obj, Payment):
            self.origins[obj.id] = obj.origin
        elif payment_id not in self.origins:
            payment = self.store.get_payment(merchant_id=self.merchant_id, payment_id=payment_id)
            self.origins[payment_id] = payment.origin if payment is not None else ""
        return self.origins[payment_id]

    def publish(self, event: Event) -> Event:
        """An event a dialect made of an object of its own (a Klarna payment request), typed
        ``<dialect>:<type>``: it leaves through the outbox with the unit, to that dialect's endpoints."""
        self.events.append(event)
        return event

    def schedule(self, kind: str, subject_id: str, *, after_s: float) -> Timer:
        timer = Timer(
            id=self.new_id("timer"),
            merchant_id=self.merchant_id,
            kind=kind,
            subject_id=subject_id,
            due_at=self.now + timedelta(seconds=after_s),
            created_at=self.now,
        )
        self.timers.append(timer)
        return timer

    def link(
        self, *, dialect: str, kind: str, external_id: str, object_type: str, object_id: str, keep_first: bool = False
    ) -> bool:
        """Give an object a provider's id (``external_ids``), written now so that a taken id raises
        ``ExternalIdTaken`` here and the unit rolls back; ``keep_first``: a taken id stays where it is."""
        record = ExternalId(self.merchant_id, dialect, kind, external_id, object_type, object_id, self.now)
        return self.store.insert_external_id(record, keep_first=keep_first)

    def record(self, transfer: Transfer) -> None:
        check_transfer(transfer)
        self.store.insert_transfer(transfer)

    def flush(self) -> None:
        """Write the buffered events and timers, and a delivery of each event to every enabled webhook
        endpoint that wants it: the transactional outbox, committed with the change itself. The unit's
        waiting writes (deferred payment updates, inserts) leave together at the end: one round trip
        on PostgreSQL (``kasse.storage._direct``)."""
        now = self.now
        for event, obj, deriver in self.derive:
            self.now = event.created_at  # dated at their engine event (a clock advance fires many in one unit)
            self.events.extend(deriver(self, event, obj))
        self.now = now
        self.derive.clear()
        self.store.insert_events(self.events)
        self.store.insert_timers(self.timers)
        if self.events:
            self.store.insert_deliveries(
                fan_out(self, self.store.enabled_endpoints(merchant_id=self.merchant_id, primed=True))
            )
        self.store.send_writes()


PREFIXES_BY_CLASS: dict[type, str] = {
    Payment: "payment",
    Capture: "capture",
    Refund: "refund",
    WebhookEndpoint: "webhook_endpoint",
}


def _public(data: dict[str, Any]) -> dict[str, Any]:
    """Events are shown and sent to third parties: never with a signing secret in them."""
    data.pop("secret", None)
    return data


def _wants(derivers: Derivers, endpoint: WebhookEndpoint, event: Event) -> bool:
    owner = dialect_of(event.type)
    if owner is None:
        return endpoint.dialect not in derivers and matches(endpoint.enabled_events, event.type)
    return endpoint.dialect == owner and matches(endpoint.enabled_events, event.type.partition(":")[2])


def fan_out(tx: Tx, endpoints: list[WebhookEndpoint]) -> list[Delivery]:
    return [
        Delivery(
            id=tx.new_id("delivery"), merchant_id=tx.merchant_id, event_id=event.id, endpoint_id=endpoint.id,
            status=DeliveryStatus.PENDING, attempts=0, created_at=tx.now, updated_at=tx.now,
            next_attempt_at=event.created_at,
        )
        for event in tx.events
        for endpoint in endpoints
        if _wants(tx.derivers, endpoint, event)
    ]  # fmt: skip


# What fires a timer of a kind: changes the timer's subject in the unit of work it fires in.
TimerHandler = Callable[["Tx", str], object]


@dataclass(frozen=True, slots=True)
class Hooks:
    """What the dialects bring to the engine, handed to ``Kasse`` by whoever builds it
    (``kasse.dialects.registry.hooks``): each origin's provider rules, who derives events of its own,
    and the timer kinds they bring (``{kind: handler(tx, subject_id)}``), fired by the engine's
    scheduler beside its own ``TimerKind``s (``kasse.engine.timers``)."""

    rules: Mapping[str, ProviderRules]
    derivers: Derivers = field(default_factory=dict)
    timer_handlers: Mapping[str, TimerHandler] = field(default_factory=dict)


class Kasse:
    """The engine's entry point: a database, a wall clock and what the dialects bring (``Hooks``);
    merchant clocks are derived per unit."""

    def __init__(
        self,
        db: Database,
        *,
        hooks: Hooks,
        wall: WallClock = system_wall_clock,
        pause: Pause = real_pause,
        group_commit: bool | None = True,
        group_commit_max: int = 64,
    ) -> None:
        taken = sorted(set(hooks.timer_handlers) & set(TimerKind))
        if taken:
            raise ValueError(f"timer kinds {taken} are the engine's own")
        self.db = db
        self.wall = wall
        self.pause = pause  # the only way the engine waits on real time
        self.hooks = hooks
        # Units of ``run`` committed together by the database's writer (kasse.storage.writer). None: on
        # SQLite only (on PostgreSQL, which commits concurrent transactions in parallel, it measured no
        # faster: docs/performance.md, "Group commit").
        on = db.is_sqlite if group_commit is None else group_commit
        self.writer = db.group_writer(max_batch=group_commit_max) if on else None

    @property
    def timer_handlers(self) -> Mapping[str, TimerHandler]:
        return self.hooks.timer_handlers

    @contextmanager
    def unit(self, *, merchant_id: str, at: datetime | None = None, lock_merchant: bool = False) -> Iterator[Tx]:
        """A write transaction for ``merchant_id``. ``at`` overrides the merchant's clock for this unit
        (timers fire at their due time when the clock is advanced past them)."""
        with self.db.transaction() as conn:
            tx = self._open(conn, merchant_id=merchant_id, at=at, lock_merchant=lock_merchant)
            yield tx
            tx.flush()

    def _open(self, conn: Connection, *, merchant_id: str, at: datetime | None, lock_merchant: bool) -> Tx:
        store = Store(conn)
        merchant = store.get_merchant(merchant_id=merchant_id, for_update=lock_merchant)
        if merchant is None:
            raise NotFound("merchant", merchant_id)
        clock = MerchantClock(merchant.clock_offset_us, merchant.clock_frozen_at)
        now = at if at is not None else clock.now(self.wall())
        return Tx(store=store, merchant_id=merchant_id, clock=clock, now=now, wall=self.wall, hooks=self.hooks)

    def _work(
        self, merchant_id: str, lock_merchant: bool, use_case: Callable[..., R], args: Any, kwargs: Any
    ) -> Callable[[Connection], R]:
        """A unit of work for the writer: the use case in a ``Tx`` of its own on the batch's connection."""

        def work(conn: Connection) -> R:
            tx = self._open(conn, merchant_id=merchant_id, at=None, lock_merchant=lock_merchant)
            result = use_case(tx, *args, **kwargs)
            tx.flush()
            return result

        return work

    def _execute(self, merchant_id: str, lock_merchant: bool, use_case: Callable[..., R], args: Any, kwargs: Any) -> R:
        writer = self.writer
        if writer is None or (self.db.writing_here() and writer.here() is None):
            # Group commit off, or asked for inside a transaction of this thread: a transaction of its own.
            with self.unit(merchant_id=merchant_id, lock_merchant=lock_merchant) as tx:
                return use_case(tx, *args, **kwargs)
        return writer.run(self._work(merchant_id, lock_merchant, use_case, args, kwargs))

    def run(self, merchant_id: str, use_case: Callable[Concatenate[Tx, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """One use case in a unit of work of its own: the engine opens, commits or rolls back the
        transaction; callers at the edge name the use case and its arguments. With group commit it
        waits for the writer to commit it with the units of other threads, each in its own savepoint."""
        return self._execute(merchant_id, False, use_case, args, kwargs)

    def run_locked(
        self, merchant_id: str, use_case: Callable[Concatenate[Tx, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """``run`` with the merchant's row locked first: use cases that find-or-create per merchant."""
        return self._execute(merchant_id, True, use_case, args, kwargs)

    async def arun(
        self, merchant_id: str, use_case: Callable[Concatenate[Tx, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """``run`` for a coroutine: awaits the writer's commit instead of blocking a thread on it."""
        writer = self.writer
        if writer is None:  # on a worker thread, like a sync route (anyio's pool, the one Starlette's routes use)
            return await to_thread.run_sync(partial(self._execute, merchant_id, False, use_case, args, kwargs))
        return await asyncio.wrap_future(writer.submit(self._work(merchant_id, False, use_case, args, kwargs)))

    @contextmanager
    def read(self) -> Iterator[Store]:
        with self.db.transaction(write=False) as conn:
            yield Store(conn)

    def merchant_now(self, *, merchant_id: str) -> datetime:
        with self.read() as store:
            merchant = store.get_merchant(merchant_id=merchant_id)
            if merchant is None:
                raise NotFound("merchant", merchant_id)
            return MerchantClock(merchant.clock_offset_us, merchant.clock_frozen_at).now(self.wall())
