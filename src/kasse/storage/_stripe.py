"""Queries of the Stripe dialect's own rows: a webhook endpoint's ``api_version`` and ``metadata``
(``stripe_endpoints``, one row per Stripe endpoint, deleted with it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from kasse.storage import schema as s
from kasse.storage._base import StoreBase

__all__ = ["StripeQueries"]

_T = s.stripe_endpoints


class StripeQueries(StoreBase):
    def stripe_endpoint(self, *, merchant_id: str, endpoint_id: str) -> tuple[str | None, dict[str, Any]]:
        """The endpoint's API version (None: the account's) and metadata."""
        row = (
            self.conn.execute(select(_T).where(_T.c.merchant_id == merchant_id, _T.c.id == endpoint_id))
            .mappings()
            .first()
        )
        return (None, {}) if row is None else (row["api_version"], dict(row["metadata"] or {}))

    def put_stripe_endpoint(
        self, *, merchant_id: str, endpoint_id: str, api_version: str | None, metadata: dict[str, Any]
    ) -> None:
        values = {"api_version": api_version, "metadata": metadata}
        where = (_T.c.merchant_id == merchant_id, _T.c.id == endpoint_id)
        if self.conn.execute(update(_T).where(*where).values(**values)).rowcount == 0:
            self.conn.execute(insert(_T).values(id=endpoint_id, merchant_id=merchant_id, **values))
