"""Queries the provider dialects need beyond the native API's: objects of one origin (a Stripe charge
list shows Stripe's charges only), derived events by type, ledger transfers by code, and expiring
idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, delete, or_, select

from kasse.domain.ledger import Transfer
from kasse.domain.models import Capture, Event, Refund
from kasse.storage import schema as s
from kasse.storage._base import Page
from kasse.storage._ledger import LedgerQueries
from kasse.storage.rows import from_row

T = TypeVar("T")


def _bounds(column: Any, created: dict[str, datetime] | None) -> list[Any]:
    """``created`` bounds by ``gt``/``gte``/``lt``/``lte`` (Stripe's range filters)."""
    ops = {"gt": column.__gt__, "gte": column.__ge__, "lt": column.__lt__, "lte": column.__le__}
    return [ops[op](value) for op, value in (created or {}).items()]


class DialectQueries(LedgerQueries):
    def _of_origin(self, table: Any, merchant_id: str, origin: str) -> Any:
        p = s.payments
        owned = select(p.c.id).where(p.c.merchant_id == merchant_id, p.c.origin == origin)
        return and_(table.c.merchant_id == merchant_id, table.c.payment_id.in_(owned))

    def _list_of_origin(  # noqa: PLR0913 (the list's filters, each by name)
        self, table: Any, cls: type[T], merchant_id: str, origin: str, limit: int, starting_after: str | None,
        ending_before: str | None, payment_id: str | None, created: dict[str, datetime] | None = None,
    ) -> Page[T]:  # fmt: skip
        where = and_(self._of_origin(table, merchant_id, origin), *_bounds(table.c.created_at, created))
        if payment_id is not None:
            where = and_(where, table.c.payment_id == payment_id)
        rows = self._page(table, where, limit, starting_after, ending_before, also=(s.payments,))
        return Page([from_row(cls, r) for r in rows[:limit]], len(rows) > limit)

    def list_captures_of_origin(
        self, *, merchant_id: str, origin: str, limit: int, starting_after: str | None = None,
        ending_before: str | None = None, payment_id: str | None = None, created: dict[str, datetime] | None = None,
    ) -> Page[Capture]:  # fmt: skip
        return self._list_of_origin(
            s.captures, Capture, merchant_id, origin, limit, starting_after, ending_before, payment_id, created
        )

    def list_refunds_of_origin(
        self, *, merchant_id: str, origin: str, limit: int, starting_after: str | None = None,
        ending_before: str | None = None, payment_id: str | None = None, created: dict[str, datetime] | None = None,
    ) -> Page[Refund]:  # fmt: skip
        return self._list_of_origin(
            s.refunds, Refund, merchant_id, origin, limit, starting_after, ending_before, payment_id, created
        )

    def list_events_of_types(
        self, *, merchant_id: str, patterns: list[str], limit: int, starting_after: str | None = None,
        ending_before: str | None = None, created: dict[str, datetime] | None = None,
    ) -> Page[Event]:  # fmt: skip
        """Events whose type matches one of ``patterns`` (``*`` is a wildcard); ``created`` bounds by
        ``gt``/``gte``/``lt``/``lte``."""
        t = s.events
        conds = [t.c.merchant_id == merchant_id]
        conds.append(or_(*(t.c.type.like(p.replace("*", "%")) if "*" in p else t.c.type == p for p in patterns)))
        conds += _bounds(t.c.created_at, created)
        rows = self._page(t, and_(*conds), limit, starting_after, ending_before)
        return Page([from_row(Event, r) for r in rows[:limit]], len(rows) > limit)

    def list_transfers_with_codes(  # noqa: PLR0913 (Stripe's balance transaction filters, each by name)
        self, *, merchant_id: str, codes: list[str], limit: int, starting_after: str | None = None,
        ending_before: str | None = None, payment_id: str | None = None, refund_id: str | None = None,
        currency: str | None = None, created: dict[str, datetime] | None = None,
    ) -> Page[Transfer]:  # fmt: skip
        t = s.ledger_transfers
        where = and_(t.c.merchant_id == merchant_id, t.c.code.in_(codes), *_bounds(t.c.created_at, created))
        for column, value in ((t.c.payment_id, payment_id), (t.c.refund_id, refund_id), (t.c.currency, currency)):
            if value is not None:
                where = and_(where, column == value)
        rows = self._page(t, where, limit, starting_after, ending_before)
        return Page(self._with_legs(merchant_id, rows[:limit]), len(rows) > limit)

    def get_transfer(self, *, merchant_id: str, transfer_id: str) -> Transfer | None:
        t = s.ledger_transfers
        rows = list(
            self.conn.execute(select(t).where(t.c.merchant_id == merchant_id, t.c.id == transfer_id)).mappings()
        )
        found = self._with_legs(merchant_id, rows)
        return found[0] if found else None

    def delete_idempotency(self, *, merchant_id: str, scope: str, key: str) -> None:
        t = s.idempotency_keys
        self.conn.execute(delete(t).where(t.c.merchant_id == merchant_id, t.c.scope == scope, t.c.key == key))
