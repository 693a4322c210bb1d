"""The repository's shared machinery: the connection, row locks, cursor pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Select, select

from kasse.domain.models import Payment

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
        # With ``defer_writes`` (a batch of timers), payment updates wait here and leave together, in
        # one executemany, before the next statement of any other kind (``conn``) or at the unit's flush.
        self.defer_writes = False
        self.deferred: dict[tuple[str, str], tuple[Payment, int]] = {}  # (merchant, id) → (payment, version read)

    @property
    def conn(self) -> Connection:
        """The connection, once the deferred writes are sent: every statement sees them."""
        if self.deferred:
            self.flush_deferred()
        return self._conn

    def known(self, payment: Payment, *, locked: bool = False) -> Payment:
        """The unit's object for this payment: the one it already holds, else this one, from now on."""
        key = (payment.merchant_id, payment.id)
        held: Payment = self.identity.setdefault(key, payment)
        if locked and held is payment:
            self.locked.add(key)
        return held

    def flush_deferred(self) -> None:
        """Send the deferred writes (``PaymentQueries`` knows how)."""

    def _lock(self, query: Select[Any], *, skip_locked: bool = False) -> Select[Any]:
        # SQLite needs no row locks: a writer holds the database (BEGIN IMMEDIATE).
        if self.is_postgres:
            return query.with_for_update(skip_locked=skip_locked)
        return query

    def _page(
        self, table: Any, where: Any, limit: int, starting_after: str | None, ending_before: str | None
    ) -> Sequence[Any]:
        """Newest first, like the providers' list endpoints; ids sort by creation time."""
        query = select(table).where(where)
        if ending_before:
            query = query.where(table.c.id > ending_before).order_by(table.c.id.asc()).limit(limit + 1)
            rows = list(self.conn.execute(query).mappings())
            more = len(rows) > limit
            rows = list(reversed(rows[:limit]))
            return rows + ([rows[-1]] if more and rows else [])
        if starting_after:
            query = query.where(table.c.id < starting_after)
        return list(self.conn.execute(query.order_by(table.c.id.desc()).limit(limit + 1)).mappings())
