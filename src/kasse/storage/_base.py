"""The repository's shared machinery: the connection, row locks, cursor pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Select, select

from kasse.domain.models import Payment
from kasse.domain.webhooks import WebhookEndpoint
from kasse.storage import schema as s
from kasse.storage._direct import Batch, joinable, send

__all__ = ["Page", "StoreBase"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool


class StoreBase:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.is_postgres = conn.dialect.name == "postgresql"
        # The unit's identity map of payments, keyed by (merchant, id): a payment read, inserted or
        # written in this transaction is the same object for every later read in it (the unit reads
        # each once), and ``locked`` says which are held FOR UPDATE on PostgreSQL.
        self.identity: dict[tuple[str, str], Payment] = {}
        self.locked: set[tuple[str, str]] = set()
        # With ``defer_writes`` (every unit of work: ``Tx``), payment updates wait here, coalesced per
        # payment, and leave with the waiting inserts (``send_writes``) at the unit's flush or before the
        # next statement that could see them (``conn``, ``reading``).
        self.defer_writes = False
        self.deferred: dict[tuple[str, str], tuple[Payment, int]] = {}  # (merchant, id) → (payment, version read)
        # The hot path's inserts (a payment, its events, timers, deliveries, ledger transfers, the
        # idempotency record) wait here, in order, and leave together with the deferred updates
        # (``send_writes``: one round trip on PostgreSQL) at the unit's flush, or before the next
        # statement that could see them (``conn``).
        # Only a unit of work (``Tx``, which sends them at its flush) lets writes wait; any other user
        # of a store has each write sent at once.
        self.pending: list[Batch] = []
        # Each merchant's enabled webhook endpoints as read with the merchant (``get_merchant``), until
        # this store changes an endpoint: what a unit's flush fans its events out to.
        self.primed_endpoints: dict[str, list[WebhookEndpoint]] = {}
        self.write_behind = False

    @property
    def conn(self) -> Connection:
        """The connection, once the waiting writes are sent: every statement sees them."""
        if self.deferred or self.pending:
            self.send_writes()
        return self._conn

    def reading(self, *tables: Any) -> Connection:
        """The connection for a read of ``tables``: the waiting writes are sent first only if one of
        them writes one of those tables (deferred payment updates: ``payments``)."""
        if (self.deferred and s.payments in tables) or any(b.statement.table in tables for b in self.pending):
            self.send_writes()
        return self._conn

    def write_later(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        """Queue rows for ``statement`` (built once, its binds named after the rows' keys)."""
        if not rows:
            return
        if not self.write_behind:
            if self.deferred or self.pending:
                self.send_writes()
            send(self._conn, [Batch(statement, rows)])
            return
        joined = joinable(self.pending, statement, rows[0].keys())
        if joined is None:
            self.pending.append(Batch(statement, rows))
        else:
            joined.rows.extend(rows)

    def send_writes(self) -> None:
        """Send the waiting inserts, then the deferred updates (checked: a version that moved is a
        conflict), in one round trip on PostgreSQL."""
        batches, self.pending = self.pending, []
        update = self._deferred_batch()
        if update is not None:
            batches.append(update)
        send(self._conn, batches)

    def _deferred_batch(self) -> Batch | None:
        """The deferred updates as one checked batch (``PaymentQueries`` knows how), now taken."""
        return None

    def known(self, payment: Payment, *, locked: bool = False) -> Payment:
        """The unit's object for this payment: the one it already holds, else this one, from now on."""
        key = (payment.merchant_id, payment.id)
        held: Payment = self.identity.setdefault(key, payment)
        if locked and held is payment:
            self.locked.add(key)
        return held

    def flush_deferred(self) -> None:
        """Send the deferred writes (and the waiting inserts before them)."""
        if self.deferred or self.pending:
            self.send_writes()

    def _lock(self, query: Select[Any], *, skip_locked: bool = False) -> Select[Any]:
        # SQLite needs no row locks: a writer holds the database (BEGIN IMMEDIATE).
        if self.is_postgres:
            return query.with_for_update(skip_locked=skip_locked)
        return query

    def _page(
        self, table: Any, where: Any, limit: int, starting_after: str | None, ending_before: str | None,
        *, also: tuple[Any, ...] = (),
    ) -> Sequence[Any]:  # fmt: skip
        """Newest first, like the providers' list endpoints; ids sort by creation time. ``also``: the
        other tables ``where`` reads (a subquery)."""
        query = select(table).where(where)
        if ending_before:
            query = query.where(table.c.id > ending_before).order_by(table.c.id.asc()).limit(limit + 1)
            rows = list(self.reading(table, *also).execute(query).mappings())
            more = len(rows) > limit
            rows = list(reversed(rows[:limit]))
            return rows + ([rows[-1]] if more and rows else [])
        if starting_after:
            query = query.where(table.c.id < starting_after)
        return list(self.reading(table, *also).execute(query.order_by(table.c.id.desc()).limit(limit + 1)).mappings())
