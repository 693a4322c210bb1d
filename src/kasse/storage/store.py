"""The repository: every query a transaction needs, each filtered by ``merchant_id``.

Two lookups are global by nature and say so: a credential (it is what identifies the merchant) and a
hosted-page token (unguessable, it is what identifies the payment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Select, and_, delete, func, insert, select, update

from kasse.domain.errors import Conflict
from kasse.domain.ledger import Account, Leg, Transfer, TransferKind
from kasse.domain.models import Capture, Event, Merchant, Payment, Refund, Timer
from kasse.storage import schema as s
from kasse.storage.rows import from_row, to_row

__all__ = ["Page", "Store"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool


class Store:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.is_postgres = conn.dialect.name == "postgresql"

    def _lock(self, query: Select[Any], *, skip_locked: bool = False) -> Select[Any]:
        # SQLite needs no row locks: a writer holds the database (BEGIN IMMEDIATE).
        if self.is_postgres:
            return query.with_for_update(skip_locked=skip_locked)
        return query

    # --- merchants and credentials -------------------------------------------------------------

    def insert_merchant(self, merchant: Merchant, *, settings: dict[str, Any] | None = None) -> None:
        self.conn.execute(insert(s.merchants).values(**to_row(merchant), settings=settings or {}))

    def get_merchant(self, *, merchant_id: str, for_update: bool = False) -> Merchant | None:
        query = select(s.merchants).where(s.merchants.c.id == merchant_id)
        row = self.conn.execute(self._lock(query) if for_update else query).mappings().first()
        return None if row is None else from_row(Merchant, row)

    def list_merchants(self) -> list[Merchant]:
        rows = self.conn.execute(select(s.merchants).order_by(s.merchants.c.id)).mappings()
        return [from_row(Merchant, r) for r in rows]

    def set_clock(self, *, merchant_id: str, offset_us: int, frozen_at: datetime | None) -> None:
        self.conn.execute(
            update(s.merchants)
            .where(s.merchants.c.id == merchant_id)
            .values(clock_offset_us=offset_us, clock_frozen_at=frozen_at)
        )

    def insert_credential(self, *, merchant_id: str, **values: Any) -> None:
        self.conn.execute(insert(s.credentials).values(merchant_id=merchant_id, **values))

    def find_credential(self, kind: str, lookup: str) -> dict[str, Any] | None:
        query = select(s.credentials).where(s.credentials.c.kind == kind, s.credentials.c.lookup == lookup)
        row = self.conn.execute(query).mappings().first()
        return None if row is None else dict(row)

    def credentials_of(self, *, merchant_id: str) -> list[dict[str, Any]]:
        query = select(s.credentials).where(s.credentials.c.merchant_id == merchant_id)
        return [dict(r) for r in self.conn.execute(query).mappings()]

    # --- payments ------------------------------------------------------------------------------

    def insert_payment(self, payment: Payment) -> None:
        self.conn.execute(insert(s.payments).values(**to_row(payment)))

    def get_payment(self, *, merchant_id: str, payment_id: str, for_update: bool = False) -> Payment | None:
        query = select(s.payments).where(s.payments.c.merchant_id == merchant_id, s.payments.c.id == payment_id)
        row = self.conn.execute(self._lock(query) if for_update else query).mappings().first()
        return None if row is None else from_row(Payment, row)

    def find_payment_by_token(self, token: str) -> Payment | None:
        row = self.conn.execute(select(s.payments).where(s.payments.c.redirect_token == token)).mappings().first()
        return None if row is None else from_row(Payment, row)

    def find_payment_by_reference(self, *, merchant_id: str, origin: str, reference: str) -> Payment | None:
        query = (
            select(s.payments)
            .where(
                s.payments.c.merchant_id == merchant_id,
                s.payments.c.origin == origin,
                s.payments.c.reference == reference,
            )
            .order_by(s.payments.c.id.desc())
            .limit(1)
        )
        row = self.conn.execute(query).mappings().first()
        return None if row is None else from_row(Payment, row)

    def update_payment(self, payment: Payment) -> None:
        """Write a changed payment; a concurrent change in between (version moved) is a conflict."""
        row = to_row(payment)
        version = row.pop("version")
        result = self.conn.execute(
            update(s.payments)
            .where(
                s.payments.c.merchant_id == payment.merchant_id,
                s.payments.c.id == payment.id,
                s.payments.c.version == version,
            )
            .values(**row, version=version + 1)
        )
        if result.rowcount != 1:
            raise Conflict("concurrent_update", f"Payment {payment.id} was changed concurrently; retry")
        payment.version = version + 1

    def list_payments(
        self,
        *,
        merchant_id: str,
        limit: int,
        starting_after: str | None = None,
        ending_before: str | None = None,
        status: str | None = None,
        created_gte: datetime | None = None,
        created_lt: datetime | None = None,
    ) -> Page[Payment]:
        t = s.payments
        conds = [t.c.merchant_id == merchant_id]
        if status:
            conds.append(t.c.status == status)
        if created_gte:
            conds.append(t.c.created_at >= created_gte)
        if created_lt:
            conds.append(t.c.created_at < created_lt)
        rows = self._page(t, and_(*conds), limit, starting_after, ending_before)
        return Page([from_row(Payment, r) for r in rows[:limit]], len(rows) > limit)

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

    def count_payments_by_status(self) -> dict[str, int]:
        query = select(s.payments.c.status, func.count()).group_by(s.payments.c.status)
        return {status: n for status, n in self.conn.execute(query).all()}

    # --- captures and refunds ------------------------------------------------------------------

    def insert_capture(self, capture: Capture) -> None:
        self.conn.execute(insert(s.captures).values(**to_row(capture)))

    def update_capture(self, capture: Capture) -> None:
        self.conn.execute(
            update(s.captures)
            .where(s.captures.c.merchant_id == capture.merchant_id, s.captures.c.id == capture.id)
            .values(status=capture.status, updated_at=capture.updated_at)
        )

    def get_capture(self, *, merchant_id: str, capture_id: str) -> Capture | None:
        query = select(s.captures).where(s.captures.c.merchant_id == merchant_id, s.captures.c.id == capture_id)
        row = self.conn.execute(query).mappings().first()
        return None if row is None else from_row(Capture, row)

    def captures_of(self, *, merchant_id: str, payment_id: str) -> list[Capture]:
        query = (
            select(s.captures)
            .where(s.captures.c.merchant_id == merchant_id, s.captures.c.payment_id == payment_id)
            .order_by(s.captures.c.id)
        )
        return [from_row(Capture, r) for r in self.conn.execute(query).mappings()]

    def insert_refund(self, refund: Refund) -> None:
        self.conn.execute(insert(s.refunds).values(**to_row(refund)))

    def update_refund(self, refund: Refund) -> None:
        row = to_row(refund)
        self.conn.execute(
            update(s.refunds)
            .where(s.refunds.c.merchant_id == refund.merchant_id, s.refunds.c.id == refund.id)
            .values(**{k: row[k] for k in ("status", "deferred", "hold_transfer_id", "failure_reason", "updated_at")})
        )

    def get_refund(self, *, merchant_id: str, refund_id: str) -> Refund | None:
        query = select(s.refunds).where(s.refunds.c.merchant_id == merchant_id, s.refunds.c.id == refund_id)
        row = self.conn.execute(query).mappings().first()
        return None if row is None else from_row(Refund, row)

    def refunds_of(self, *, merchant_id: str, payment_id: str) -> list[Refund]:
        query = (
            select(s.refunds)
            .where(s.refunds.c.merchant_id == merchant_id, s.refunds.c.payment_id == payment_id)
            .order_by(s.refunds.c.id)
        )
        return [from_row(Refund, r) for r in self.conn.execute(query).mappings()]

    # --- ledger --------------------------------------------------------------------------------

    def insert_transfer(self, transfer: Transfer) -> None:
        self.conn.execute(
            insert(s.ledger_transfers).values(
                id=transfer.id,
                merchant_id=transfer.merchant_id,
                currency=transfer.currency,
                kind=transfer.kind.value,
                code=transfer.code,
                pending_id=transfer.pending_id,
                payment_id=transfer.payment_id,
                refund_id=transfer.refund_id,
                created_at=transfer.created_at,
            )
        )
        self.conn.execute(
            insert(s.ledger_legs),
            [
                {
                    "transfer_id": transfer.id,
                    "leg": n,
                    "merchant_id": transfer.merchant_id,
                    "currency": transfer.currency,
                    "account": leg.account.value,
                    "amount_minor": leg.amount_minor,
                    "moves_money": transfer.moves_money,
                }
                for n, leg in enumerate(transfer.legs)
            ],
        )

    def get_transfer_amount(self, *, merchant_id: str, transfer_id: str, account: Account) -> int:
        query = select(func.coalesce(func.sum(s.ledger_legs.c.amount_minor), 0)).where(
            s.ledger_legs.c.merchant_id == merchant_id,
            s.ledger_legs.c.transfer_id == transfer_id,
            s.ledger_legs.c.account == account.value,
        )
        return int(self.conn.execute(query).scalar_one())

    def list_transfers(
        self,
        *,
        merchant_id: str,
        limit: int,
        starting_after: str | None = None,
        ending_before: str | None = None,
        payment_id: str | None = None,
    ) -> Page[Transfer]:
        t = s.ledger_transfers
        where = and_(t.c.merchant_id == merchant_id, *([t.c.payment_id == payment_id] if payment_id else []))
        rows = self._page(t, where, limit, starting_after, ending_before)
        has_more = len(rows) > limit
        rows = rows[:limit]
        return Page(self._with_legs(merchant_id, rows), has_more)

    def all_transfers(self, *, merchant_id: str) -> list[Transfer]:
        t = s.ledger_transfers
        rows = self.conn.execute(select(t).where(t.c.merchant_id == merchant_id).order_by(t.c.id)).mappings()
        return self._with_legs(merchant_id, list(rows))

    def _with_legs(self, merchant_id: str, rows: Sequence[Any]) -> list[Transfer]:
        ids = [r["id"] for r in rows]
        legs: dict[str, list[Leg]] = {i: [] for i in ids}
        if ids:
            lq = (
                select(s.ledger_legs)
                .where(s.ledger_legs.c.merchant_id == merchant_id, s.ledger_legs.c.transfer_id.in_(ids))
                .order_by(s.ledger_legs.c.transfer_id, s.ledger_legs.c.leg)
            )
            for leg in self.conn.execute(lq).mappings():
                legs[leg["transfer_id"]].append(Leg(Account(leg["account"]), leg["amount_minor"]))
        return [
            Transfer(
                id=r["id"],
                merchant_id=r["merchant_id"],
                currency=r["currency"],
                kind=TransferKind(r["kind"]),
                code=r["code"],
                legs=tuple(legs[r["id"]]),
                created_at=r["created_at"],
                pending_id=r["pending_id"],
                payment_id=r["payment_id"],
                refund_id=r["refund_id"],
            )
            for r in rows
        ]

    def account_balances(self, *, merchant_id: str) -> dict[tuple[str, Account], tuple[int, int]]:
        """(currency, account) → (posted, open pending), summed in the database from append-only legs
        (no balance row that every payment would update)."""
        legs, tr = s.ledger_legs, s.ledger_transfers
        resolved = select(tr.c.pending_id).where(tr.c.merchant_id == merchant_id, tr.c.pending_id.is_not(None))
        posted = (
            select(legs.c.currency, legs.c.account, func.sum(legs.c.amount_minor))
            .where(legs.c.merchant_id == merchant_id, legs.c.moves_money.is_(True))
            .group_by(legs.c.currency, legs.c.account)
        )
        pending = (
            select(legs.c.currency, legs.c.account, func.sum(legs.c.amount_minor))
            .join(tr, tr.c.id == legs.c.transfer_id)
            .where(
                legs.c.merchant_id == merchant_id,
                tr.c.kind == TransferKind.PENDING.value,
                tr.c.id.not_in(resolved),
            )
            .group_by(legs.c.currency, legs.c.account)
        )
        # Every currency the merchant ever used shows up, at zero if need be.
        currencies = select(tr.c.currency).where(tr.c.merchant_id == merchant_id).distinct()
        out: dict[tuple[str, Account], tuple[int, int]] = {
            (currency, account): (0, 0) for currency in self.conn.execute(currencies).scalars() for account in Account
        }
        for currency, account, total in self.conn.execute(posted).all():
            out[(currency, Account(account))] = (int(total), 0)
        for currency, account, total in self.conn.execute(pending).all():
            p, _ = out.get((currency, Account(account)), (0, 0))
            out[(currency, Account(account))] = (p, int(total))
        return out

    # --- events --------------------------------------------------------------------------------

    def insert_events(self, events: list[Event]) -> None:
        if events:
            self.conn.execute(insert(s.events), [to_row(e) for e in events])

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
        if timers:
            self.conn.execute(insert(s.timers), [to_row(t) for t in timers])

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

    def mark_fired(self, *, merchant_id: str, timer_id: str, fired_at: datetime) -> bool:
        t = s.timers
        result = self.conn.execute(
            update(t)
            .where(t.c.merchant_id == merchant_id, t.c.id == timer_id, t.c.fired_at.is_(None))
            .values(fired_at=fired_at)
        )
        return result.rowcount == 1

    def merchants_with_timers(self) -> list[str]:
        query = select(s.timers.c.merchant_id).where(s.timers.c.fired_at.is_(None)).distinct()
        return list(self.conn.execute(query).scalars())

    def count_due_timers(self, *, merchant_id: str, until: datetime) -> int:
        t = s.timers
        query = select(func.count()).where(t.c.merchant_id == merchant_id, t.c.fired_at.is_(None), t.c.due_at <= until)
        return int(self.conn.execute(query).scalar_one())

    def pending_timers(self, *, merchant_id: str) -> list[Timer]:
        t = s.timers
        query = select(t).where(t.c.merchant_id == merchant_id, t.c.fired_at.is_(None)).order_by(t.c.due_at)
        return [from_row(Timer, r) for r in self.conn.execute(query).mappings()]

    # --- idempotency ---------------------------------------------------------------------------

    def get_idempotency(self, *, merchant_id: str, scope: str, key: str) -> dict[str, Any] | None:
        t = s.idempotency_keys
        query = select(t).where(t.c.merchant_id == merchant_id, t.c.scope == scope, t.c.key == key)
        row = self.conn.execute(query).mappings().first()
        return None if row is None else dict(row)

    def insert_idempotency(self, *, merchant_id: str, **values: Any) -> None:
        self.conn.execute(insert(s.idempotency_keys).values(merchant_id=merchant_id, **values))

    # --- sandbox reset -------------------------------------------------------------------------

    def delete_merchant_data(self, *, merchant_id: str) -> None:
        """Everything this merchant did; the merchant and its credentials stay."""
        for table in (
            s.ledger_legs,
            s.ledger_transfers,
            s.events,
            s.timers,
            s.idempotency_keys,
            s.refunds,
            s.captures,
            s.payments,
        ):
            self.conn.execute(delete(table).where(table.c.merchant_id == merchant_id))
