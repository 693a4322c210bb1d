"""Queries of webhook endpoints, deliveries and their attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, update

from kasse.domain.webhooks import Delivery, DeliveryStatus, EndpointStatus, WebhookEndpoint
from kasse.storage import schema as s
from kasse.storage._base import Page, StoreBase
from kasse.storage.rows import from_row, to_row

__all__ = ["WebhookQueries"]

_E = s.webhook_endpoints
_ENABLED = select(_E).where(_E.c.merchant_id == bindparam("merchant_id"), _E.c.status == EndpointStatus.ENABLED.value)
_INSERT_DELIVERIES = insert(s.deliveries)
# Recording an attempt runs these once each (a clock advance over failing receivers: thousands): built
# once, parameters bound at execution (building each statement cost more than the database work).
_D, _A = s.deliveries, s.delivery_attempts
_ENDPOINT = select(_E).where(_E.c.merchant_id == bindparam("merchant_id"), _E.c.id == bindparam("endpoint_id"))
_DELIVERY = select(_D).where(_D.c.merchant_id == bindparam("merchant_id"), _D.c.id == bindparam("delivery_id"))
_UPDATE_ENDPOINT = update(_E).where(_E.c.merchant_id == bindparam("w_merchant_id"), _E.c.id == bindparam("w_id"))
_UPDATE_DELIVERY = update(_D).where(_D.c.merchant_id == bindparam("w_merchant_id"), _D.c.id == bindparam("w_id"))
_INSERT_ATTEMPT = insert(_A)
_ENDPOINT_LOCKED, _DELIVERY_LOCKED = _ENDPOINT.with_for_update(), _DELIVERY.with_for_update()


class WebhookQueries(StoreBase):
    # --- endpoints -----------------------------------------------------------------------------

    def insert_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.primed_endpoints.clear()
        self.conn.execute(insert(s.webhook_endpoints).values(**to_row(endpoint)))

    def update_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.primed_endpoints.clear()
        params = {**to_row(endpoint), "w_merchant_id": endpoint.merchant_id, "w_id": endpoint.id}
        self.write_later(_UPDATE_ENDPOINT, [params])

    def get_endpoint(self, *, merchant_id: str, endpoint_id: str, for_update: bool = False) -> WebhookEndpoint | None:
        query = _ENDPOINT_LOCKED if for_update and self.is_postgres else _ENDPOINT
        row = self.conn.execute(query, {"merchant_id": merchant_id, "endpoint_id": endpoint_id}).mappings().first()
        return None if row is None else from_row(WebhookEndpoint, row)

    def list_endpoints(
        self, *, merchant_id: str, limit: int = 100, starting_after: str | None = None, ending_before: str | None = None
    ) -> Page[WebhookEndpoint]:
        t = s.webhook_endpoints
        rows = self._page(t, t.c.merchant_id == merchant_id, limit, starting_after, ending_before)
        return Page([from_row(WebhookEndpoint, r) for r in rows[:limit]], len(rows) > limit)

    def enabled_endpoints(self, *, merchant_id: str, primed: bool = False) -> list[WebhookEndpoint]:
        """``primed``: as read with the merchant in this transaction, if this store has changed no
        endpoint since (a unit's flush; its transaction is short)."""
        if primed and merchant_id in self.primed_endpoints:
            return list(self.primed_endpoints[merchant_id])
        rows = self.reading(_E).execute(_ENABLED, {"merchant_id": merchant_id}).mappings()
        return [from_row(WebhookEndpoint, r) for r in rows]

    def delete_endpoint(self, *, merchant_id: str, endpoint_id: str) -> bool:
        self.primed_endpoints.clear()
        t = s.webhook_endpoints
        result = self.conn.execute(delete(t).where(t.c.merchant_id == merchant_id, t.c.id == endpoint_id))
        return result.rowcount == 1

    # --- deliveries ----------------------------------------------------------------------------

    def insert_deliveries(self, deliveries: list[Delivery]) -> None:
        self.write_later(_INSERT_DELIVERIES, [to_row(d) for d in deliveries])

    def get_delivery(self, *, merchant_id: str, delivery_id: str, for_update: bool = False) -> Delivery | None:
        query = _DELIVERY_LOCKED if for_update and self.is_postgres else _DELIVERY
        row = self.conn.execute(query, {"merchant_id": merchant_id, "delivery_id": delivery_id}).mappings().first()
        return None if row is None else from_row(Delivery, row)

    def update_delivery(self, delivery: Delivery) -> None:
        params = {**to_row(delivery), "w_merchant_id": delivery.merchant_id, "w_id": delivery.id}
        self.write_later(_UPDATE_DELIVERY, [params])

    def get_deliveries(
        self, *, merchant_id: str, delivery_ids: list[str], for_update: bool = False
    ) -> dict[str, Delivery]:
        """Several deliveries by id, in one query (PostgreSQL, ``for_update``: locked, in id order)."""
        if not delivery_ids:
            return {}
        t = s.deliveries
        query = select(t).where(t.c.merchant_id == merchant_id, t.c.id.in_(sorted(set(delivery_ids)))).order_by(t.c.id)
        rows = self.conn.execute(self._lock(query) if for_update else query).mappings()
        return {r["id"]: from_row(Delivery, r) for r in rows}

    def deliveries_of_event(self, *, merchant_id: str, event_id: str) -> list[Delivery]:
        t = s.deliveries
        query = select(t).where(t.c.merchant_id == merchant_id, t.c.event_id == event_id).order_by(t.c.id)
        return [from_row(Delivery, r) for r in self.conn.execute(query).mappings()]

    def claim_due_deliveries(
        self, *, merchant_id: str, until: datetime, wall: datetime, lease_until: datetime, token: str, limit: int
    ) -> list[Delivery]:
        """Lease up to ``limit`` deliveries due by ``until`` (earliest first) that no live lease holds.

        PostgreSQL: rows another worker is claiming are skipped (SKIP LOCKED); the lease, committed with
        the claim, keeps them from being sent twice while the HTTP request is in flight."""
        t = s.deliveries
        query = (
            select(t)
            .where(
                t.c.merchant_id == merchant_id,
                t.c.status == DeliveryStatus.PENDING.value,
                t.c.next_attempt_at <= until,
                or_(t.c.leased_until.is_(None), t.c.leased_until < wall),
            )
            .order_by(t.c.next_attempt_at, t.c.id)
            .limit(limit)
        )
        rows = [from_row(Delivery, r) for r in self.conn.execute(self._lock(query, skip_locked=True)).mappings()]
        if rows:
            self.conn.execute(
                update(t)
                .where(t.c.merchant_id == merchant_id, t.c.id.in_([d.id for d in rows]))
                .values(leased_until=lease_until, lease_token=token)
            )
        for d in rows:
            d.leased_until, d.lease_token = lease_until, token
        return rows

    def renew_leases(self, *, merchant_id: str, delivery_ids: list[str], token: str, until: datetime) -> set[str]:
        """Extend the leases this worker still holds on a batch, in one statement; the ids it still owns."""
        if not delivery_ids:
            return set()
        t = s.deliveries
        result = self.conn.execute(
            update(t)
            .where(
                t.c.merchant_id == merchant_id,
                t.c.id.in_(delivery_ids),
                t.c.status == DeliveryStatus.PENDING.value,
                t.c.lease_token == token,
            )
            .values(leased_until=until)
            .returning(t.c.id)
        )
        return {row[0] for row in result}

    def release_leases(self, *, merchant_id: str, delivery_ids: list[str], token: str) -> None:
        """Give back deliveries this worker claimed but will not send in this pass."""
        if delivery_ids:
            t = s.deliveries
            self.conn.execute(
                update(t)
                .where(t.c.merchant_id == merchant_id, t.c.id.in_(delivery_ids), t.c.lease_token == token)
                .values(leased_until=None, lease_token=None)
            )

    def merchants_with_due_deliveries(self) -> list[str]:
        t = s.deliveries
        query = select(t.c.merchant_id).where(t.c.status == DeliveryStatus.PENDING.value).distinct()
        return list(self.conn.execute(query).scalars())

    def next_delivery_due(self, *, merchant_id: str) -> datetime | None:
        t = s.deliveries
        query = (
            select(t.c.next_attempt_at)
            .where(and_(t.c.merchant_id == merchant_id, t.c.status == DeliveryStatus.PENDING.value))
            .order_by(t.c.next_attempt_at)
            .limit(1)
        )
        value: datetime | None = self.conn.execute(query).scalar()
        return value

    def skip_pending_deliveries(self, *, merchant_id: str, endpoint_id: str, now: datetime) -> None:
        t = s.deliveries
        self.conn.execute(
            update(t)
            .where(t.c.merchant_id == merchant_id, t.c.endpoint_id == endpoint_id, t.c.status == "pending")
            .values(status=DeliveryStatus.SKIPPED.value, next_attempt_at=None, updated_at=now)
        )

    # --- attempts ------------------------------------------------------------------------------

    def insert_attempt(self, *, merchant_id: str, **values: Any) -> None:
        self.write_later(_INSERT_ATTEMPT, [{"merchant_id": merchant_id, **values}])

    def attempts_of(self, *, merchant_id: str, delivery_id: str) -> list[dict[str, Any]]:
        t = s.delivery_attempts
        query = select(t).where(t.c.merchant_id == merchant_id, t.c.delivery_id == delivery_id).order_by(t.c.number)
        return [dict(r) for r in self.conn.execute(query).mappings()]
