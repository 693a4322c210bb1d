"""The double-entry ledger: immutable transfers with legs that sum to zero.

Accounts, per merchant and currency:
  customer   the customers' banks (outside the merchant; goes negative as money comes in)
  incoming   captured money in transit to the merchant (the "pending" balance)
  available  settled money (the "available" balance)

Two-phase transfers as in TigerBeetle: a ``pending`` transfer reserves money (an authorization, a
refund in flight); exactly one later transfer resolves it, a ``post`` (all or part of it) or a
``void``. Nothing is ever edited: every change is a new transfer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Account", "Leg", "Transfer", "TransferKind", "balances", "check_transfer"]


class Account(StrEnum):
    CUSTOMER = "customer"
    INCOMING = "incoming"
    AVAILABLE = "available"


class TransferKind(StrEnum):
    POSTED = "posted"  # a plain, final movement
    PENDING = "pending"  # a reservation, resolved once by a post or a void
    POST = "post"  # resolves a pending transfer, moving all or part of it
    VOID = "void"  # resolves a pending transfer, moving nothing (legs record what was released)


@dataclass(frozen=True, slots=True)
class Leg:
    account: Account
    amount_minor: int  # positive = credit to the account, negative = debit


@dataclass(frozen=True, slots=True)
class Transfer:
    id: str
    merchant_id: str
    currency: str
    kind: TransferKind
    code: str  # why: authorization, capture, settlement, settlement_failed, refund, ...
    legs: tuple[Leg, ...]
    created_at: datetime
    pending_id: str | None = None
    payment_id: str | None = None
    refund_id: str | None = None

    @property
    def moves_money(self) -> bool:
        return self.kind in (TransferKind.POSTED, TransferKind.POST)


def move(source: Account, destination: Account, amount_minor: int) -> tuple[Leg, Leg]:
    return Leg(source, -amount_minor), Leg(destination, amount_minor)


def check_transfer(transfer: Transfer) -> None:
    """Raise if a transfer is malformed: legs that do not sum to zero, or a resolution without a pending."""
    if sum(leg.amount_minor for leg in transfer.legs) != 0:
        raise ValueError(f"transfer {transfer.id} legs do not sum to zero")
    resolves = transfer.kind in (TransferKind.POST, TransferKind.VOID)
    if resolves != (transfer.pending_id is not None):
        raise ValueError(f"transfer {transfer.id}: only post and void resolve a pending transfer")


def balances(transfers: Iterable[Transfer]) -> dict[tuple[str, Account], tuple[int, int]]:
    """(currency, account) → (posted, pending) from the whole history; pending counts only the
    reservations that are not yet resolved."""
    items = list(transfers)
    resolved = {t.pending_id for t in items if t.pending_id is not None}
    out: dict[tuple[str, Account], tuple[int, int]] = {}
    for t in items:
        for leg in t.legs:
            posted, pending = out.get((t.currency, leg.account), (0, 0))
            if t.moves_money:
                posted += leg.amount_minor
            elif t.kind is TransferKind.PENDING and t.id not in resolved:
                pending += leg.amount_minor
            out[(t.currency, leg.account)] = (posted, pending)
    return out
