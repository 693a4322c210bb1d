"""Queries of merchants, credentials, payments, captures and refunds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, update

from kasse.domain.errors import Conflict, ErrorCode
from kasse.domain.models import Capture, Merchant, Payment, Refund
from kasse.domain.webhooks import EndpointStatus, WebhookEndpoint
from kasse.storage import schema as s
from kasse.storage._base import Page, StoreBase
from kasse.storage._direct import Batch, fetch
from kasse.storage.rows import from_row, to_row

# Hot statements are built once: building a statement per call (coercing every value, computing its
# cache key) cost more than the database work. Parameters are bound at execution.
_P = s.payments
_PAYMENT = select(_P).where(_P.c.merchant_id == bindparam("merchant_id"), _P.c.id == bindparam("payment_id"))
_INSERT_PAYMENT = insert(_P)
_C, _R = s.captures, s.refunds
_INSERT_CAPTURE = insert(_C)
_UPDATE_CAPTURE = (
    update(_C)
    .where(_C.c.merchant_id == bindparam("w_merchant_id"), _C.c.id == bindparam("w_id"))
    .values(status=bindparam("w_status"), updated_at=bindparam("w_updated_at"))
)
_CAPTURE = select(_C).where(_C.c.merchant_id == bindparam("merchant_id"), _C.c.id == bindparam("capture_id"))
_CAPTURES_OF = (
    select(_C).where(_C.c.merchant_id == bindparam("merchant_id"), _C.c.payment_id == bindparam("payment_id"))
    .order_by(_C.c.id)
)  # fmt: skip
_INSERT_REFUND = insert(_R)
_REFUND = select(_R).where(_R.c.merchant_id == bindparam("merchant_id"), _R.c.id == bindparam("refund_id"))
_REFUNDS_OF = (
    select(_R).where(_R.c.merchant_id == bindparam("merchant_id"), _R.c.payment_id == bindparam("payment_id"))
    .order_by(_R.c.id)
)  # fmt: skip
# A unit reads its merchant (the clock) first, and at its flush the merchant's enabled webhook endpoints
# (the outbox fan-out): one query answers both, the endpoints kept for the flush (``primed_endpoints``).
_M, _E = s.merchants, s.webhook_endpoints
_MERCHANT_AND_ENDPOINTS = (
    select(_M.c.id, _M.c.name, _M.c.clock_offset_us, _M.c.clock_frozen_at, _M.c.created_at,
           *[c.label(f"ep_{c.name}") for c in _E.c])
    .select_from(_M.outerjoin(_E, and_(_E.c.merchant_id == _M.c.id, _E.c.status == EndpointStatus.ENABLED.value)))
    .where(_M.c.id == bindparam("merchant_id"))
    .order_by(_E.c.id)
)  # fmt: skip
_MERCHANT_AND_ENDPOINTS_LOCKED = _MERCHANT_AND_ENDPOINTS.with_for_update(of=_M)
_PAYMENT_LOCKED = _PAYMENT.with_for_update()
# SET comes from the parameters named after columns; the WHERE binds are prefixed so they never clash.
_UPDATE_PAYMENT = update(_P).where(
    _P.c.merchant_id == bindparam("w_merchant_id"), _P.c.id == bindparam("w_id"), _P.c.version == bindparam("w_version")
)


def _update_params(payment: Payment, read: int) -> dict[str, Any]:
    """``_UPDATE_PAYMENT``'s parameters: the payment's row (its version already moved on), where the
    stored one is still at version ``read``."""
    return {**to_row(payment), "w_merchant_id": payment.merchant_id, "w_id": payment.id, "w_version": read}


class PaymentQueries(StoreBase):
    # --- merchants and credentials -------------------------------------------------------------

    def insert_merchant(self, merchant: Merchant, *, settings: dict[str, Any] | None = None) -> None:
        self.conn.execute(insert(s.merchants).values(**to_row(merchant), settings=settings or {}))

    def get_merchant(self, *, merchant_id: str, for_update: bool = False) -> Merchant | None:
        """The merchant; its enabled webhook endpoints come with it, kept for this unit's flush."""
        query = _MERCHANT_AND_ENDPOINTS_LOCKED if for_update and self.is_postgres else _MERCHANT_AND_ENDPOINTS
        params = {"merchant_id": merchant_id}
        rows = fetch(self.conn, query, params)  # every unit's first statement: through the driver
        if not rows:
            return None
        self.primed_endpoints[merchant_id] = [
            from_row(WebhookEndpoint, {k[3:]: v for k, v in row.items() if k.startswith("ep_")})
            for row in rows
            if row["ep_id"] is not None
        ]
        return from_row(Merchant, rows[0])

    def merchant_settings(self, *, merchant_id: str) -> dict[str, Any]:
        query = select(s.merchants.c.settings).where(s.merchants.c.id == merchant_id)
        value = self.reading(s.merchants).execute(query).scalar()
        return dict(value) if isinstance(value, dict) else {}

    def put_merchant_setting(self, *, merchant_id: str, key: str, value: Any | None) -> None:
        """Set (or, with None, remove) one section of the merchant's settings, keeping the others."""
        settings = self.merchant_settings(merchant_id=merchant_id)
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = value
        self.conn.execute(update(s.merchants).where(s.merchants.c.id == merchant_id).values(settings=settings))

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
        self.write_later(_INSERT_PAYMENT, [to_row(payment)])
        self.known(payment, locked=True)

    def get_payment(self, *, merchant_id: str, payment_id: str, for_update: bool = False) -> Payment | None:
        key = (merchant_id, payment_id)
        held: Payment | None = self.identity.get(key)
        lock = for_update and self.is_postgres
        if held is not None and (not lock or key in self.locked):
            return held  # read (or written) once in this unit: the same object, deferred writes and all
        row = self.conn.execute(_PAYMENT_LOCKED if lock else _PAYMENT, {"merchant_id": merchant_id,
                                "payment_id": payment_id}).mappings().first()  # fmt: skip
        if row is None:
            return None
        payment = from_row(Payment, row)
        if held is not None:  # read again under lock: the locked row is the truth from here on
            del self.identity[key]
        return self.known(payment, locked=lock)

    def find_payment_by_token(self, token: str) -> Payment | None:
        row = self.conn.execute(select(s.payments).where(s.payments.c.redirect_token == token)).mappings().first()
        return None if row is None else self.known(from_row(Payment, row))

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
        return None if row is None else self.known(from_row(Payment, row))

    def update_payment(self, payment: Payment) -> None:
        """Write a changed payment; a concurrent change in between (version moved) is a conflict."""
        key = (payment.merchant_id, payment.id)
        if self.defer_writes:
            held = self.deferred.get(key)
            if held is None or held[0] is payment:  # another copy of it: sent first, then checked as ever
                self.deferred[key] = (payment, payment.version if held is None else held[1])
                payment.version += 1
                if self.identity.get(key) is not payment:  # written from another copy: this one is current now
                    self.identity[key] = payment
                return
            self.flush_deferred()
        payment.version += 1
        result = self.conn.execute(_UPDATE_PAYMENT, _update_params(payment, payment.version - 1))
        if result.rowcount != 1:
            payment.version -= 1
            raise Conflict(ErrorCode.CONCURRENT_UPDATE, f"Payment {payment.id} was changed concurrently; retry")
        if self.identity.get(key) is not payment:  # written from another copy: this one is current now
            self.identity[key] = payment
        self.locked.add(key)  # the update holds its row

    def _deferred_batch(self) -> Batch | None:
        if not self.deferred:
            return None
        writes, self.deferred = self.deferred, {}
        params = [_update_params(payment, read) for payment, read in writes.values()]
        ids = ", ".join(payment.id for payment, _ in writes.values())

        def conflict() -> Conflict:
            return Conflict(ErrorCode.CONCURRENT_UPDATE, f"One of the payments {ids} was changed concurrently; retry")

        return Batch(_UPDATE_PAYMENT, params, rowcount=len(params), conflict=conflict)

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

    def count_payments_by_status(self) -> dict[str, int]:
        query = select(s.payments.c.status, func.count()).group_by(s.payments.c.status)
        return {status: n for status, n in self.conn.execute(query).all()}

    # --- captures and refunds ------------------------------------------------------------------

    def insert_capture(self, capture: Capture) -> None:
        self.write_later(_INSERT_CAPTURE, [to_row(capture)])

    def update_capture(self, capture: Capture) -> None:
        params = {"w_merchant_id": capture.merchant_id, "w_id": capture.id, "w_status": capture.status,
                  "w_updated_at": capture.updated_at}  # fmt: skip
        self.write_later(_UPDATE_CAPTURE, [params])

    def get_capture(self, *, merchant_id: str, capture_id: str) -> Capture | None:
        row = (
            self.reading(_C)
            .execute(_CAPTURE, {"merchant_id": merchant_id, "capture_id": capture_id})
            .mappings()
            .first()
        )
        return None if row is None else from_row(Capture, row)

    def captures_of(self, *, merchant_id: str, payment_id: str) -> list[Capture]:
        rows = self.reading(_C).execute(_CAPTURES_OF, {"merchant_id": merchant_id, "payment_id": payment_id}).mappings()
        return [from_row(Capture, r) for r in rows]

    def insert_refund(self, refund: Refund) -> None:
        self.write_later(_INSERT_REFUND, [to_row(refund)])

    def update_refund(self, refund: Refund) -> None:
        row = to_row(refund)
        self.conn.execute(
            update(s.refunds)
            .where(s.refunds.c.merchant_id == refund.merchant_id, s.refunds.c.id == refund.id)
            .values(**{k: row[k] for k in ("status", "deferred", "hold_transfer_id", "failure_reason", "updated_at")})
        )

    def get_refund(self, *, merchant_id: str, refund_id: str) -> Refund | None:
        row = self.reading(_R).execute(_REFUND, {"merchant_id": merchant_id, "refund_id": refund_id}).mappings().first()
        return None if row is None else from_row(Refund, row)

    def refunds_of(self, *, merchant_id: str, payment_id: str) -> list[Refund]:
        rows = self.reading(_R).execute(_REFUNDS_OF, {"merchant_id": merchant_id, "payment_id": payment_id}).mappings()
        return [from_row(Refund, r) for r in rows]
