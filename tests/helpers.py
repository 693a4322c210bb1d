"""Test helpers: a controllable wall clock and the ledger invariants of DESIGN.md."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from kasse.domain.ledger import Account, TransferKind
from kasse.domain.states import CaptureState, RefundState
from kasse.storage import schema
from kasse.storage.store import Store


class FakeWall:
    """A wall clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def assert_ledger_invariants(store: Store, merchant_id: str) -> None:
    """Every invariant DESIGN.md names, checked from the stored rows."""
    transfers = store.all_transfers(merchant_id=merchant_id)
    for t in transfers:
        assert sum(leg.amount_minor for leg in t.legs) == 0, f"transfer {t.id} does not balance"
        assert len(t.legs) >= 2
    by_currency: Counter[str] = Counter()
    for t in transfers:
        if t.moves_money:
            by_currency[t.currency] += sum(leg.amount_minor for leg in t.legs)
    assert all(v == 0 for v in by_currency.values()), "the ledger does not sum to zero"

    # A pending transfer resolves once, and only pending transfers are resolved.
    kinds = {t.id: t.kind for t in transfers}
    resolutions = Counter(t.pending_id for t in transfers if t.pending_id)
    assert all(n == 1 for n in resolutions.values()), "a pending transfer was resolved twice"
    assert all(kinds.get(pid) is TransferKind.PENDING for pid in resolutions), "resolved a non-pending transfer"

    # Balances equal what the payment objects say.
    balances = store.account_balances(merchant_id=merchant_id)
    captures = store.conn.execute(select(schema.captures).where(schema.captures.c.merchant_id == merchant_id))
    refunds = store.conn.execute(select(schema.refunds).where(schema.refunds.c.merchant_id == merchant_id))
    settled: Counter[str] = Counter()
    in_transit: Counter[str] = Counter()
    for c in captures.mappings():
        if c["status"] == CaptureState.SUCCEEDED:
            settled[c["currency"]] += c["amount_minor"]
        elif c["status"] == CaptureState.PENDING:
            in_transit[c["currency"]] += c["amount_minor"]
    refunded: Counter[str] = Counter()
    refunds_in_flight: Counter[str] = Counter()
    for r in refunds.mappings():
        if r["status"] == RefundState.SUCCEEDED:
            refunded[r["currency"]] += r["amount_minor"]
        elif r["status"] == RefundState.PENDING and not r["deferred"]:
            refunds_in_flight[r["currency"]] += r["amount_minor"]
    for currency in set(settled) | set(refunded) | set(in_transit) | {c for c, _ in balances}:
        available, held = balances.get((currency, Account.AVAILABLE), (0, 0))
        assert available == settled[currency] - refunded[currency], f"available {currency} != settled - refunded"
        assert -held == refunds_in_flight[currency], f"refund holds {currency} disagree"
        incoming, _ = balances.get((currency, Account.INCOMING), (0, 0))
        assert incoming == in_transit[currency], f"incoming {currency} != captures in transit"

    # Each payment: refunded never exceeds captured; the open hold equals the capturable amount.
    payments = store.conn.execute(select(schema.payments).where(schema.payments.c.merchant_id == merchant_id))
    open_pending = {t.id for t in transfers if t.kind is TransferKind.PENDING and t.id not in resolutions}
    for p in payments.mappings():
        assert 0 <= p["amount_refunded_minor"] <= p["amount_captured_minor"] <= p["amount_minor"]
        assert p["amount_settled_minor"] <= p["amount_captured_minor"]
        if p["hold_transfer_id"] is None:
            assert p["amount_capturable_minor"] == 0
        else:
            assert p["hold_transfer_id"] in open_pending, f"payment {p['id']} points at a resolved hold"
            held_amount = store.get_transfer_amount(
                merchant_id=merchant_id, transfer_id=p["hold_transfer_id"], account=Account.INCOMING
            )
            assert held_amount == p["amount_capturable_minor"]
