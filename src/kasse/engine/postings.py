"""The ledger transfers each use case writes. Two-phase: holds are pending transfers that are
resolved once, by a post or a void, always by a new transfer."""

from __future__ import annotations

from kasse.domain.ledger import Account, Transfer, TransferKind, move
from kasse.engine.unit import Tx

__all__ = ["hold", "posted", "resolve"]


# Size rule exception: keyword-only legs of one transfer.
def _new(  # noqa: PLR0913
    tx: Tx,
    kind: TransferKind,
    *,
    currency: str,
    source: Account,
    destination: Account,
    amount_minor: int,
    code: str,
    payment_id: str,
    refund_id: str | None,
    pending_id: str | None = None,
) -> Transfer:
    transfer = Transfer(
        id=tx.new_id("transfer"), merchant_id=tx.merchant_id, currency=currency, kind=kind, code=code,
        legs=move(source, destination, amount_minor), created_at=tx.now, pending_id=pending_id,
        payment_id=payment_id, refund_id=refund_id,
    )  # fmt: skip
    tx.record(transfer)
    return transfer


def hold(
    tx: Tx,
    *,
    currency: str,
    source: Account,
    destination: Account,
    amount_minor: int,
    code: str,
    payment_id: str,
    refund_id: str | None = None,
) -> Transfer:
    """Reserve money: a pending transfer, resolved later by exactly one post or void."""
    return _new(
        tx, TransferKind.PENDING, currency=currency, source=source, destination=destination,
        amount_minor=amount_minor, code=code, payment_id=payment_id, refund_id=refund_id,
    )  # fmt: skip


# Size rule exception: keyword-only legs of one transfer.
def resolve(  # noqa: PLR0913
    tx: Tx,
    pending_id: str,
    *,
    currency: str,
    source: Account,
    destination: Account,
    post_minor: int,
    held_minor: int,
    code: str,
    payment_id: str,
    refund_id: str | None = None,
) -> Transfer:
    """Post ``post_minor`` (≤ what was held) of a pending transfer, or void it when that is zero."""
    if not 0 <= post_minor <= held_minor:
        raise ValueError("a post moves at most what the pending transfer held")
    kind = TransferKind.POST if post_minor else TransferKind.VOID
    return _new(
        tx, kind, currency=currency, source=source, destination=destination,
        amount_minor=post_minor or held_minor,  # a void records what it released
        code=code, payment_id=payment_id, refund_id=refund_id, pending_id=pending_id,
    )  # fmt: skip


def posted(
    tx: Tx,
    *,
    currency: str,
    source: Account,
    destination: Account,
    amount_minor: int,
    code: str,
    payment_id: str,
    refund_id: str | None = None,
) -> Transfer:
    """Move money now: a plain, final transfer."""
    return _new(
        tx, TransferKind.POSTED, currency=currency, source=source, destination=destination,
        amount_minor=amount_minor, code=code, payment_id=payment_id, refund_id=refund_id,
    )  # fmt: skip
