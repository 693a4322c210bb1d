"""Queries of ``external_ids``: a provider's own ids of engine objects (MultiSafepay's ``order_id``,
later PAYONE's ``txid``, Klarna's ``krn:`` ids), unique per merchant, dialect and kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from kasse.domain.errors import Conflict, ErrorCode
from kasse.storage import schema as s
from kasse.storage._base import StoreBase

__all__ = ["ExternalId", "ExternalIdQueries", "ExternalIdTaken"]

_X = s.external_ids


@dataclass(frozen=True, slots=True)
class ExternalId:
    merchant_id: str
    dialect: str
    kind: str
    external_id: str
    object_type: str  # payment | capture | refund | a dialect's own object
    object_id: str
    created_at: datetime


class ExternalIdTaken(Conflict):
    """The external id is already given to another object of this merchant (the unique constraint).
    On PostgreSQL the transaction cannot go on: let it propagate, so the unit of work rolls back."""

    def __init__(self, dialect: str, kind: str, external_id: str) -> None:
        super().__init__(ErrorCode.EXTERNAL_ID_TAKEN, f"The {dialect} {kind} '{external_id}' is already used")
        self.dialect = dialect
        self.kind = kind
        self.external_id = external_id


class ExternalIdQueries(StoreBase):
    def insert_external_id(self, record: ExternalId, *, keep_first: bool = False) -> bool:
        """Record ``record``; returns whether it was written. A taken id raises ``ExternalIdTaken``, or
        with ``keep_first`` is left to the object that has it (ids derived by a hash may collide)."""
        values = {
            "merchant_id": record.merchant_id, "dialect": record.dialect, "kind": record.kind,
            "external_id": record.external_id, "object_type": record.object_type, "object_id": record.object_id,
            "created_at": record.created_at,
        }  # fmt: skip
        if keep_first:
            upsert = pg_insert(_X) if self.is_postgres else sqlite_insert(_X)
            written = upsert.values(values).on_conflict_do_nothing().returning(_X.c.object_id)
            return self.conn.execute(written).first() is not None
        conn = self.conn  # the waiting writes sent first: a key they take is not this id's
        try:
            conn.execute(insert(_X).values(values))
        except IntegrityError:
            raise ExternalIdTaken(record.dialect, record.kind, record.external_id) from None
        return True

    def find_external_id(self, *, merchant_id: str, dialect: str, kind: str, external_id: str) -> ExternalId | None:
        query = select(_X).where(
            _X.c.merchant_id == merchant_id, _X.c.dialect == dialect, _X.c.kind == kind,
            _X.c.external_id == external_id,
        )  # fmt: skip
        row = self.conn.execute(query).mappings().first()
        return None if row is None else ExternalId(**row)

    def external_ids_of(self, *, merchant_id: str, object_id: str) -> list[ExternalId]:
        query = select(_X).where(_X.c.merchant_id == merchant_id, _X.c.object_id == object_id)
        rows = self.conn.execute(query.order_by(_X.c.dialect, _X.c.kind, _X.c.external_id)).mappings()
        return [ExternalId(**r) for r in rows]
