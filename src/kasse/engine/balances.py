"""The merchant's balance per currency, projected from the ledger once for every dialect: ``available`` is
settled money less refunds in flight (a held debit counts at once, a held credit only once posted);
``pending`` is captured money still in transit."""

from __future__ import annotations

from dataclasses import dataclass

from kasse.domain.ledger import Account
from kasse.engine.unit import Kasse

__all__ = ["Balance", "balances"]


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    available: int  # minor units
    pending: int


def balances(kasse: Kasse, *, merchant_id: str) -> list[Balance]:
    """One ``Balance`` per currency the merchant's ledger has seen, in currency order."""
    with kasse.read() as store:
        accounts = store.account_balances(merchant_id=merchant_id)
    out = []
    for currency in sorted({currency for currency, _ in accounts}):
        posted_av, held_av = accounts.get((currency, Account.AVAILABLE), (0, 0))
        posted_in, _ = accounts.get((currency, Account.INCOMING), (0, 0))
        out.append(Balance(currency, posted_av + min(held_av, 0), posted_in))
    return out
