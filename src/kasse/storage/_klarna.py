"""Queries of the Klarna dialect's own objects: its payment requests (``klarna_payment_requests``), and
the one global lookup it needs beyond the store's: a Klarna API key, which is stored hashed and is all
an unscoped request (``/v2/payment/requests``) presents to name its merchant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from kasse.storage import schema as s
from kasse.storage._base import StoreBase

__all__ = ["KlarnaQueries"]

_R = s.klarna_payment_requests


class KlarnaQueries(StoreBase):
    def insert_klarna_request(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(_R).values(values))

    def get_klarna_request(
        self, *, merchant_id: str, request_id: str, for_update: bool = False
    ) -> dict[str, Any] | None:
        query = select(_R).where(_R.c.merchant_id == merchant_id, _R.c.id == request_id)
        row = self.conn.execute(self._lock(query) if for_update else query).mappings().first()
        return None if row is None else dict(row)

    def update_klarna_request(self, *, merchant_id: str, request_id: str, values: dict[str, Any]) -> None:
        self.conn.execute(update(_R).where(_R.c.merchant_id == merchant_id, _R.c.id == request_id).values(values))

    def find_klarna_request_by_page_token(self, token: str) -> dict[str, Any] | None:
        """Global by nature, like a payment's redirect token: the page token is what names the request."""
        row = self.conn.execute(select(_R).where(_R.c.page_token == token)).mappings().first()
        return None if row is None else dict(row)

    def find_klarna_account(self, secret_hash: str) -> dict[str, Any] | None:
        """Global by nature: the merchant whose Klarna API key hashes to ``secret_hash``."""
        c = s.credentials
        query = select(c).where(c.c.kind == "klarna", c.c.secret_hash == secret_hash)
        row = self.conn.execute(query).mappings().first()
        return None if row is None else dict(row)
