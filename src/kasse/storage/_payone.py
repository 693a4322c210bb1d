"""Queries of PAYONE's Klarna sessions (``payone_sessions``), the PAYONE dialect's own objects. Written only
through ``tx.store`` inside a unit of work, so a session changes with the payment it leads to, or not."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from kasse.storage import schema as s
from kasse.storage._base import StoreBase

__all__ = ["PayoneQueries", "PayoneSession"]

_T = s.payone_sessions


@dataclass(slots=True)
class PayoneSession:
    id: str  # the workorderid
    merchant_id: str
    session_id: str
    client_token: str
    status: str  # open | authorized | canceled | expired
    financingtype: str
    currency: str
    country: str
    amount_minor: int
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    authorization_token: str | None = None
    payment_id: str | None = None
    customer: dict[str, Any] = field(default_factory=dict)
    cart: list[dict[str, Any]] = field(default_factory=list)


def _session(row: Any) -> PayoneSession:
    values = dict(row)
    values["cart"] = list(values.get("cart") or [])
    values["customer"] = dict(values.get("customer") or {})
    return PayoneSession(**values)


class PayoneQueries(StoreBase):
    def insert_payone_session(self, session: PayoneSession) -> None:
        self.conn.execute(insert(_T).values(asdict(session)))

    def update_payone_session(self, session: PayoneSession) -> None:
        values = asdict(session)
        self.conn.execute(
            update(_T).where(_T.c.merchant_id == session.merchant_id, _T.c.id == session.id).values(values)
        )

    def _one_session(self, merchant_id: str, *conditions: Any, for_update: bool = False) -> PayoneSession | None:
        query = select(_T).where(_T.c.merchant_id == merchant_id, *conditions)
        if for_update and self.is_postgres:
            query = query.with_for_update()
        row = self.conn.execute(query).mappings().first()
        return None if row is None else _session(row)

    def get_payone_session(
        self, *, merchant_id: str, workorderid: str, for_update: bool = False
    ) -> PayoneSession | None:
        return self._one_session(merchant_id, _T.c.id == workorderid, for_update=for_update)

    def find_payone_session(
        self, *, merchant_id: str, session_id: str, for_update: bool = False
    ) -> PayoneSession | None:
        return self._one_session(merchant_id, _T.c.session_id == session_id, for_update=for_update)

    def find_payone_session_by_authorization(
        self, *, merchant_id: str, authorization_token: str, for_update: bool = False
    ) -> PayoneSession | None:
        return self._one_session(merchant_id, _T.c.authorization_token == authorization_token, for_update=for_update)
