"""Queries of events (the outbox), timers, idempotency keys, and the sandbox reset."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update

from kasse.domain.models import Event, Payment, Timer, TimerKind
from kasse.storage import schema as s
from kasse.storage._base import Page, StoreBase
from kasse.storage.rows import from_row, to_row

_I = s.idempotency_keys
_IDEMPOTENCY = select(_I).where(
    _I.c.merchant_id == bindparam("merchant_id"), _I.c.scope == bindparam("scope"), _I.c.key == bindparam("key")
)
_INSERT_IDEMPOTENCY = insert(_I)
_INSERT_EVENTS = insert(s.events)
_INSERT_TIMERS = insert(s.timers)
_T = s.timers
# By primary key alone: with `fired_at IS NULL` in it, PostgreSQL without statistics (autovacuum off,
# or right after a bulk load) preferred the (merchant_id, fired_at, due_at) index and scanned it.
_MARK_FIRED = update(_T).where(_T.c.id == bindparam("w_id")).values(fired_at=bindparam("w_fired_at"))

# Timers whose subject is not the payment itself, but a row of it.
_OWNED_BY = {TimerKind.CAPTURE_SETTLEMENT: s.captures, TimerKind.REFUND_SETTLEMENT: s.refunds}


class RecordQueries(StoreBase):
    # --- events --------------------------------------------------------------------------------

    def insert_events(self, events: list[Event]) -> None:
        self.write_later(_INSERT_EVENTS, [to_row(e) for e in events])

    def get_events(self, *, merchant_id: str, event_ids: list[str]) -> dict[str, Event]:
        """Several events by id, in one query."""
        if not event_ids:
            return {}
        query = select(s.events).where(s.events.c.merchant_id == merchant_id, s.events.c.id.in_(event_ids))
        return {r["id"]: from_row(Event, r) for r in self.conn.execute(query).mappings()}

    def get_event(self, *, merchant_id: str, event_id: str) -> Event | None:
        query = select(s.events).where(s.events.c.merchant_id == merchant_id, s.events.c.id == event_id)
        row = self.conn.execute(query).mappings().first()
        return None if row is None else from_row(Event, row)

    def list_events(
        self,
        *,
        merchant_id: str,
        limit: int,
        starting_after: str | None = None,
        ending_before: str | None = None,
        type: str | None = None,
        payment_id: str | None = None,
    ) -> Page[Event]:
        t = s.events
        conds = [t.c.merchant_id == merchant_id]
        if type:
            conds.append(t.c.type.like(type.replace("*", "%")) if "*" in type else t.c.type == type)
        if payment_id:
            conds.append(t.c.payment_id == payment_id)
        rows = self._page(t, and_(*conds), limit, starting_after, ending_before)
        return Page([from_row(Event, r) for r in rows[:limit]], len(rows) > limit)

    # --- timers --------------------------------------------------------------------------------

    def insert_timers(self, timers: list[Timer]) -> None:
        self.write_later(_INSERT_TIMERS, [to_row(t) for t in timers])

    def next_due_timer(self, *, merchant_id: str, until: datetime) -> Timer | None:
        """The earliest unfired timer due by ``until``, claimed (PostgreSQL: locked, others skip it)."""
        t = s.timers
        query = (
            select(t)
            .where(t.c.merchant_id == merchant_id, t.c.fired_at.is_(None), t.c.due_at <= until)
            .order_by(t.c.due_at, t.c.id)
            .limit(1)
        )
        row = self.conn.execute(self._lock(query, skip_locked=True)).mappings().first()
        return None if row is None else from_row(Timer, row)

    def due_timers(
        self, *, merchant_id: str, until: datetime, limit: int, kinds: list[str] | None = None
    ) -> list[Timer]:
        """The earliest unfired timers due by ``until`` (of ``kinds``, if given), claimed (PostgreSQL:
        locked, others skip them)."""
        t = s.timers
        query = (
            select(t)
            .where(t.c.merchant_id == merchant_id, t.c.fired_at.is_(None), t.c.due_at <= until)
            .order_by(t.c.due_at, t.c.id)
            .limit(limit)
        )
        if kinds is not None:
            query = query.where(t.c.kind.in_(kinds))
        return [from_row(Timer, r) for r in self.conn.execute(self._lock(query, skip_locked=True)).mappings()]

    def load_timer_payments(self, *, merchant_id: str, timers: list[Timer]) -> None:
        """Read the payments a claimed batch of timers will change in one query, in id order, before
        firing any; they join the unit's identity map, so each handler's ``get_payment`` finds its own.

        On PostgreSQL the query also locks them (FOR UPDATE): firing locks them in due order, which
        differs between two batches (two partial captures of two payments settling in opposite orders);
        two batches fired at once (two schedulers, a scheduler and an advance) then each held a payment
        the other wanted: deadlock."""
        if not timers:
            return
        ids = {t.subject_id for t in timers if t.kind not in _OWNED_BY}
        for kind, table in _OWNED_BY.items():
            owned = [t.subject_id for t in timers if t.kind is kind]
            if owned:
                query = select(table.c.payment_id).where(table.c.merchant_id == merchant_id, table.c.id.in_(owned))
                ids.update(self.conn.execute(query).scalars())
        p = s.payments
        query = select(p).where(p.c.merchant_id == merchant_id, p.c.id.in_(sorted(ids))).order_by(p.c.id)
        for row in self.conn.execute(self._lock(query)).mappings():
            self.known(from_row(Payment, row), locked=True)

    def mark_fired(self, fired: list[tuple[str, datetime]]) -> None:
        """Record timers (claimed by ``due_timers`` in this transaction) as fired, in one executemany
        (psycopg pipelines it: one round trip for the batch)."""
        self.write_later(_MARK_FIRED, [{"w_id": timer_id, "w_fired_at": at} for timer_id, at in fired])

    def merchants_with_timers(self) -> list[str]:
        query = select(s.timers.c.merchant_id).where(s.timers.c.fired_at.is_(None)).distinct()
        return list(self.conn.execute(query).scalars())

    def count_due_timers(self, *, merchant_id: str, until: datetime) -> int:
        t = s.timers
        query = select(func.count()).where(t.c.merchant_id == merchant_id, t.c.fired_at.is_(None), t.c.due_at <= until)
        return int(self.conn.execute(query).scalar_one())

    def next_timer_due_at(self, *, merchant_id: str, kinds: list[str] | None = None) -> datetime | None:
        t = s.timers
        query = (
            select(t.c.due_at)
            .where(t.c.merchant_id == merchant_id, t.c.fired_at.is_(None))
            .order_by(t.c.due_at)
            .limit(1)
        )
        if kinds is not None:
            query = query.where(t.c.kind.in_(kinds))
        value: datetime | None = self.conn.execute(query).scalar()
        return value

    def due_timer_kinds(self, *, merchant_id: str, until: datetime, excluding: list[str]) -> list[tuple[str, int]]:
        """How many unfired timers of each kind not in ``excluding`` are due by ``until``."""
        t = s.timers
        query = (
            select(t.c.kind, func.count())
            .where(t.c.merchant_id == merchant_id, t.c.fired_at.is_(None), t.c.due_at <= until)
            .where(t.c.kind.not_in(excluding))
            .group_by(t.c.kind)
            .order_by(t.c.kind)
        )
        return [(str(kind), int(count)) for kind, count in self.conn.execute(query)]

    def pending_timers(self, *, merchant_id: str) -> list[Timer]:
        t = s.timers
        query = select(t).where(t.c.merchant_id == merchant_id, t.c.fired_at.is_(None)).order_by(t.c.due_at)
        return [from_row(Timer, r) for r in self.conn.execute(query).mappings()]

    # --- idempotency ---------------------------------------------------------------------------

    def get_idempotency(self, *, merchant_id: str, scope: str, key: str) -> dict[str, Any] | None:
        params = {"merchant_id": merchant_id, "scope": scope, "key": key}
        row = self.reading(_I).execute(_IDEMPOTENCY, params).mappings().first()
        return None if row is None else dict(row)

    def insert_idempotency(self, *, merchant_id: str, **values: Any) -> None:
        self.write_later(_INSERT_IDEMPOTENCY, [{"merchant_id": merchant_id, **values}])

    # --- sandbox reset -------------------------------------------------------------------------

    def delete_merchant_data(self, *, merchant_id: str) -> None:
        """Everything this merchant did; the merchant, its credentials and webhook endpoints stay."""
        for table in (
            s.delivery_attempts,
            s.deliveries,
            s.ledger_legs,
            s.ledger_transfers,
            s.events,
            s.timers,
            s.idempotency_keys,
            s.external_ids,
            s.payone_sessions,
            s.refunds,
            s.captures,
            s.payments,
            s.klarna_payment_requests,
        ):
            self.conn.execute(delete(table).where(table.c.merchant_id == merchant_id))

    # --- event stream --------------------------------------------------------------------------

    def events_after(self, *, merchant_id: str, after_id: str | None, limit: int) -> list[Event]:
        """This merchant's events with an id above ``after_id`` (all when None), oldest first."""
        t = s.events
        query = select(t).where(t.c.merchant_id == merchant_id)
        if after_id is not None:
            query = query.where(t.c.id > after_id)
        rows = self.conn.execute(query.order_by(t.c.id.asc()).limit(limit)).mappings()
        return [from_row(Event, r) for r in rows]
