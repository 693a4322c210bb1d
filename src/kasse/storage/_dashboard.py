"""Read queries of the dashboard (``kasse.web.dashboard``): filtered and searched payment pages, a
payment's whole history, and the figures its charts draw. Every method is scoped to one merchant."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, union

from kasse.domain.models import Capture, Event, Payment, Refund, Timer
from kasse.domain.webhooks import Delivery
from kasse.storage import schema as s
from kasse.storage._base import StoreBase
from kasse.storage.rows import from_row

__all__ = ["DashboardQueries", "PaymentFilter"]


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    """What the payments list is narrowed to; None means any."""

    origin: str | None = None  # the provider (dialect) it came through
    status: str | None = None
    method: str | None = None
    amount_gte: int | None = None  # minor units
    amount_lte: int | None = None
    created_gte: datetime | None = None
    created_lt: datetime | None = None
    search: str | None = None  # any id (payment, capture, refund, event, a provider's id) or a reference


class DashboardQueries(StoreBase):
    def _payment_ids_for(self, *, merchant_id: str, needle: str) -> Any:
        """Payments some object with this id or reference belongs to, as one ``IN`` subquery union."""
        p, c, r, e, x = s.payments, s.captures, s.refunds, s.events, s.external_ids
        refund_of_external = select(r.c.payment_id).where(
            r.c.merchant_id == merchant_id,
            r.c.id.in_(select(x.c.object_id).where(x.c.merchant_id == merchant_id, x.c.external_id == needle)),
        )
        return union(
            select(p.c.id).where(p.c.merchant_id == merchant_id, or_(p.c.id == needle, p.c.reference == needle)),
            select(c.c.payment_id).where(c.c.merchant_id == merchant_id, c.c.id == needle),
            select(r.c.payment_id).where(r.c.merchant_id == merchant_id, r.c.id == needle),
            select(e.c.payment_id).where(e.c.merchant_id == merchant_id, e.c.id == needle),
            select(x.c.object_id).where(x.c.merchant_id == merchant_id, x.c.external_id == needle),
            refund_of_external,
        )

    def _payment_conditions(self, *, merchant_id: str, f: PaymentFilter) -> list[Any]:
        t = s.payments
        conds: list[Any] = [t.c.merchant_id == merchant_id]
        pairs = ((f.origin, t.c.origin), (f.status, t.c.status), (f.method, t.c.method))
        conds += [column == value for value, column in pairs if value]
        if f.amount_gte is not None:
            conds.append(t.c.amount_minor >= f.amount_gte)
        if f.amount_lte is not None:
            conds.append(t.c.amount_minor <= f.amount_lte)
        if f.created_gte is not None:
            conds.append(t.c.created_at >= f.created_gte)
        if f.created_lt is not None:
            conds.append(t.c.created_at < f.created_lt)
        if f.search:
            conds.append(t.c.id.in_(self._payment_ids_for(merchant_id=merchant_id, needle=f.search)))
        return conds

    def search_payments(
        self, *, merchant_id: str, where: PaymentFilter, offset: int = 0, limit: int = 25
    ) -> tuple[list[Payment], int]:
        """One page of the matching payments, newest first, and how many match in all."""
        t = s.payments
        cond = and_(*self._payment_conditions(merchant_id=merchant_id, f=where))
        total = int(self.conn.execute(select(func.count()).select_from(t).where(cond)).scalar_one())
        query = select(t).where(cond).order_by(t.c.id.desc()).offset(offset).limit(limit)
        return [from_row(Payment, r) for r in self.conn.execute(query).mappings()], total

    def payment_origins(self, *, merchant_id: str) -> list[str]:
        t = s.payments
        query = select(t.c.origin).where(t.c.merchant_id == merchant_id).distinct().order_by(t.c.origin)
        return list(self.conn.execute(query).scalars())

    # --- one payment's history -----------------------------------------------------------------

    def events_of_payment(self, *, merchant_id: str, payment_id: str) -> list[Event]:
        t = s.events
        query = select(t).where(t.c.merchant_id == merchant_id, t.c.payment_id == payment_id).order_by(t.c.id)
        return [from_row(Event, r) for r in self.conn.execute(query).mappings()]

    def timers_of_payment(self, *, merchant_id: str, payment_id: str, captures: list[Capture],
                          refunds: list[Refund]) -> list[Timer]:  # fmt: skip
        """Timers of the payment itself and of its captures and refunds, in due order."""
        t = s.timers
        subjects = [payment_id, *(c.id for c in captures), *(r.id for r in refunds)]
        query = select(t).where(t.c.merchant_id == merchant_id, t.c.subject_id.in_(subjects)).order_by(t.c.due_at)
        return [from_row(Timer, r) for r in self.conn.execute(query).mappings()]

    def deliveries_of_events(self, *, merchant_id: str, event_ids: list[str]) -> list[Delivery]:
        if not event_ids:
            return []
        d = s.deliveries
        query = select(d).where(d.c.merchant_id == merchant_id, d.c.event_id.in_(event_ids)).order_by(d.c.id)
        return [from_row(Delivery, r) for r in self.conn.execute(query).mappings()]

    def attempts_of_deliveries(self, *, merchant_id: str, delivery_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {i: [] for i in delivery_ids}
        if not delivery_ids:
            return found
        a = s.delivery_attempts
        query = (
            select(a).where(a.c.merchant_id == merchant_id, a.c.delivery_id.in_(delivery_ids))
            .order_by(a.c.delivery_id, a.c.number)
        )  # fmt: skip
        for row in self.conn.execute(query).mappings():
            found[row["delivery_id"]].append(dict(row))
        return found

    def deliveries_of_endpoint(self, *, merchant_id: str, endpoint_id: str, limit: int = 20) -> list[Delivery]:
        d = s.deliveries
        query = (
            select(d).where(d.c.merchant_id == merchant_id, d.c.endpoint_id == endpoint_id)
            .order_by(d.c.id.desc()).limit(limit)
        )  # fmt: skip
        return [from_row(Delivery, r) for r in self.conn.execute(query).mappings()]

    # --- figures for the charts ----------------------------------------------------------------

    def payment_status_counts(self, *, merchant_id: str) -> dict[str, int]:
        t = s.payments
        query = select(t.c.status, func.count()).where(t.c.merchant_id == merchant_id).group_by(t.c.status)
        return {status: int(n) for status, n in self.conn.execute(query).all()}

    def daily_volume(self, *, merchant_id: str, since: datetime) -> dict[tuple[str, str], int]:
        """(day ``YYYY-MM-DD``, currency) → the amount of the payments created that day, since ``since``."""
        t = s.payments
        query = select(t.c.created_at, t.c.currency, t.c.amount_minor).where(
            t.c.merchant_id == merchant_id, t.c.created_at >= since
        )
        volume: Counter[tuple[str, str]] = Counter()
        for created_at, currency, amount in self.conn.execute(query).all():
            volume[(created_at.date().isoformat(), currency)] += int(amount)
        return dict(volume)

    def delivery_status_counts(self, *, merchant_id: str) -> dict[str, int]:
        d = s.deliveries
        query = select(d.c.status, func.count()).where(d.c.merchant_id == merchant_id).group_by(d.c.status)
        return {status: int(n) for status, n in self.conn.execute(query).all()}
