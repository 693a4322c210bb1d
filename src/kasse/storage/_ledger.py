"""Queries of the ledger: transfers with their legs, balances summed from append-only rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, insert, select

from kasse.domain.ledger import Account, Leg, Transfer, TransferKind
from kasse.storage import schema as s
from kasse.storage._base import Page, StoreBase

_INSERT_TRANSFER = insert(s.ledger_transfers)
_INSERT_LEGS = insert(s.ledger_legs)


class LedgerQueries(StoreBase):
    # --- ledger --------------------------------------------------------------------------------

    def insert_transfer(self, transfer: Transfer) -> None:
        self.write_later(
            _INSERT_TRANSFER,
            [
                {
                    "id": transfer.id,
                    "merchant_id": transfer.merchant_id,
                    "currency": transfer.currency,
                    "kind": transfer.kind.value,
                    "code": transfer.code,
                    "pending_id": transfer.pending_id,
                    "payment_id": transfer.payment_id,
                    "refund_id": transfer.refund_id,
                    "created_at": transfer.created_at,
                }
            ],
        )
        self.write_later(
            _INSERT_LEGS,
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
            for leg in self.reading(s.ledger_legs).execute(lq).mappings():
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
