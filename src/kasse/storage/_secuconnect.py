"""Queries of the secuconnect dialect's own objects: its OAuth access tokens (``secuconnect_tokens``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select

from kasse.storage import schema as s
from kasse.storage._base import StoreBase

__all__ = ["SecuconnectQueries", "SecuconnectToken"]

_T = s.secuconnect_tokens


@dataclass(frozen=True, slots=True)
class SecuconnectToken:
    merchant_id: str
    token_hash: str
    client_id: str
    created_at: datetime
    expires_at: datetime


class SecuconnectQueries(StoreBase):
    def insert_secuconnect_token(self, token: SecuconnectToken) -> None:
        self.conn.execute(
            insert(_T).values(
                merchant_id=token.merchant_id, token_hash=token.token_hash, client_id=token.client_id,
                created_at=token.created_at, expires_at=token.expires_at,
            )
        )  # fmt: skip

    def find_secuconnect_token(self, token_hash: str) -> SecuconnectToken | None:
        """Global by nature: the token is what identifies the merchant (as ``find_credential``)."""
        row = self.conn.execute(select(_T).where(_T.c.token_hash == token_hash)).mappings().first()
        return None if row is None else SecuconnectToken(**row)

    def delete_expired_secuconnect_tokens(self, *, merchant_id: str, now: datetime) -> int:
        """Tokens of this merchant that lapsed before ``now``: they answer no request any more."""
        gone = self.conn.execute(delete(_T).where(_T.c.merchant_id == merchant_id, _T.c.expires_at <= now))
        return int(gone.rowcount or 0)
