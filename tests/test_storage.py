"""The repository on SQLite and PostgreSQL: migrations, round trips, pagination, constraints, versions."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from kasse.dialects.registry import hooks
from kasse.domain.errors import Conflict
from kasse.domain.ids import new_id
from kasse.domain.ledger import Account, Transfer, TransferKind, move
from kasse.domain.models import (
    Approval,
    CaptureMethod,
    Event,
    Merchant,
    Method,
    Payment,
    Scenario,
    Settlement,
)
from kasse.domain.states import PaymentState
from kasse.engine import payments, refunds
from kasse.engine.merchants import create_merchant
from kasse.engine.unit import Kasse
from kasse.storage import schema
from kasse.storage.db import MIGRATIONS, Database, normalize_url
from kasse.storage.store import Store
from tests.helpers import DAY_S, FakeWall, advance_clock, check, new_payment, row_counts, run

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(database: Database) -> Iterator[Store]:
    """A store on an open transaction (rolled back at the end) with two merchants."""
    conn = database.engine.connect()
    trans = conn.begin()
    s = Store(conn)
    for mid in ("mer_a", "mer_b"):
        s.insert_merchant(Merchant(id=mid, name=mid, created_at=T0))
    yield s
    trans.rollback()
    conn.close()


def _payment(merchant_id: str = "mer_a", *, at: datetime = T0, **fields: object) -> Payment:
    values: dict[str, object] = {
        "id": new_id("pay", at), "merchant_id": merchant_id, "origin": "native", "amount_minor": 1000,
        "currency": "EUR", "method": Method.SOFORT, "country": "DE", "status": PaymentState.REQUIRES_ACTION,
        "capture_method": CaptureMethod.AUTOMATIC, "redirect_token": new_id("tok", at), "created_at": at,
        "updated_at": at, "expires_at": at + timedelta(days=1),
    }  # fmt: skip
    values.update(fields)
    return Payment(**values)  # type: ignore[arg-type]


def _event(payment: Payment, n: int) -> Event:
    return Event(
        id=new_id("evt", T0), merchant_id=payment.merchant_id, type=f"payment.t{n}", object_type="payment",
        object_id=payment.id, payment_id=payment.id, data={"n": n}, created_at=T0,
    )  # fmt: skip


# --- migrations ------------------------------------------------------------------------------------


def test_migrations_apply_twice_and_match_the_schema(database: Database) -> None:
    database.migrate()
    database.migrate()
    with database.transaction(write=False) as conn:
        (version,) = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        tables = set(inspect(conn).get_table_names())
        columns = {
            t.name: {c["name"] for c in inspect(conn).get_columns(t.name)} for t in schema.metadata.sorted_tables
        }
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert version == ScriptDirectory.from_config(cfg).get_current_head()
    assert {t.name for t in schema.metadata.sorted_tables} <= tables
    for table in schema.metadata.sorted_tables:
        assert columns[table.name] == {c.name for c in table.columns}, f"{table.name} differs from schema.py"


def test_normalize_url_uses_psycopg() -> None:
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_synchronous_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="synchronous"):
        Database("sqlite:///:memory:", sqlite_synchronous="SOMETIMES")


# --- round trips -----------------------------------------------------------------------------------


def test_payment_round_trip_keeps_json_and_aware_utc_datetimes(store: Store) -> None:
    cest = timezone(timedelta(hours=2))
    payment = _payment(
        amount_minor=9_999_999_999, method=Method.KLARNA_SLICE_IT, capture_method=CaptureMethod.MANUAL,
        created_at=datetime(2026, 3, 2, 11, 0, 0, 123456, tzinfo=cest),
        customer={"name": "Zoë Ünal", "address": {"lines": ["Straße 1", "€ 2"], "zip": None}, "vip": True, "n": 3},
        metadata={"order": "42", "emoji": "💶"}, provider_data={"nested": [{"a": 1.5}, [], {}]},
        scenario=Scenario(Approval.DECLINE, Settlement.FAIL), authorized_at=None,
        failure_message="x" * 500, description="d" * 1000,
    )  # fmt: skip
    store.insert_payment(payment)
    assert store.get_payment(merchant_id="mer_a", payment_id=payment.id) is payment  # the unit's own object
    loaded = Store(store.conn).get_payment(merchant_id="mer_a", payment_id=payment.id)  # from the database
    assert loaded == payment and loaded is not payment
    assert loaded is not None
    assert loaded.created_at == datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)
    for value in (loaded.created_at, loaded.updated_at, loaded.expires_at):
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    assert loaded.authorized_at is None
    assert loaded.scenario == Scenario(Approval.DECLINE, Settlement.FAIL)
    assert isinstance(loaded.method, Method) and isinstance(loaded.status, PaymentState)
    assert loaded.customer["address"]["lines"] == ["Straße 1", "€ 2"]


def test_a_payment_is_found_only_under_its_merchant(store: Store) -> None:
    payment = _payment()
    store.insert_payment(payment)
    assert store.get_payment(merchant_id="mer_b", payment_id=payment.id) is None
    assert store.find_payment_by_token(payment.redirect_token) == payment
    assert store.find_payment_by_reference(merchant_id="mer_a", origin="native", reference="none") is None


def test_merchant_clock_round_trip(store: Store) -> None:
    frozen = datetime(2030, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    store.set_clock(merchant_id="mer_a", offset_us=-5_000_000_000_000, frozen_at=frozen)
    merchant = store.get_merchant(merchant_id="mer_a")
    assert merchant is not None
    assert (merchant.clock_offset_us, merchant.clock_frozen_at) == (-5_000_000_000_000, frozen)
    assert merchant.clock_frozen_at.tzinfo is not None  # type: ignore[union-attr]


def test_transfer_round_trip(store: Store) -> None:
    pending = Transfer(new_id("tr", T0), "mer_a", "EUR", TransferKind.PENDING, "authorization",
                       move(Account.CUSTOMER, Account.INCOMING, 700), T0, payment_id="pay_x")  # fmt: skip
    store.insert_transfer(pending)
    assert store.all_transfers(merchant_id="mer_a") == [pending]
    assert store.all_transfers(merchant_id="mer_b") == []
    assert store.get_transfer_amount(merchant_id="mer_a", transfer_id=pending.id, account=Account.INCOMING) == 700
    assert store.account_balances(merchant_id="mer_a") == {
        ("EUR", Account.CUSTOMER): (0, -700), ("EUR", Account.INCOMING): (0, 700),
        ("EUR", Account.AVAILABLE): (0, 0),  # every account of a currency in use is listed
    }  # fmt: skip


# --- constraints and versions ----------------------------------------------------------------------


def test_a_pending_transfer_can_be_resolved_only_once(database: Database) -> None:
    with database.transaction() as conn:
        Store(conn).insert_merchant(Merchant(id="mer_a", name="a", created_at=T0))
    pending = Transfer(new_id("tr", T0), "mer_a", "EUR", TransferKind.PENDING, "authorization",
                       move(Account.CUSTOMER, Account.INCOMING, 700), T0)  # fmt: skip
    post = Transfer(new_id("tr", T0), "mer_a", "EUR", TransferKind.POST, "capture",
                    move(Account.CUSTOMER, Account.INCOMING, 700), T0, pending_id=pending.id)  # fmt: skip
    void = Transfer(new_id("tr", T0), "mer_a", "EUR", TransferKind.VOID, "authorization_canceled",
                    move(Account.CUSTOMER, Account.INCOMING, 700), T0, pending_id=pending.id)  # fmt: skip
    with database.transaction() as conn:
        Store(conn).insert_transfer(pending)
        Store(conn).insert_transfer(post)
    with pytest.raises(IntegrityError), database.transaction() as conn:
        Store(conn).insert_transfer(void)
    with database.transaction(write=False) as conn:
        assert [t.id for t in Store(conn).all_transfers(merchant_id="mer_a")] == sorted([pending.id, post.id])


def test_a_stale_payment_update_is_a_conflict(store: Store) -> None:
    payment = _payment()
    store.insert_payment(payment)
    first = store.get_payment(merchant_id="mer_a", payment_id=payment.id)
    assert store.get_payment(merchant_id="mer_a", payment_id=payment.id) is first  # one object per unit
    stale = Store(store.conn).get_payment(merchant_id="mer_a", payment_id=payment.id)  # another unit's copy
    assert first is not None and stale is not None
    first.status = PaymentState.CANCELED
    store.update_payment(first)
    assert first.version == 2
    stale.status = PaymentState.AUTHORIZED
    with pytest.raises(Conflict) as err:
        store.update_payment(stale)
    assert err.value.code == "concurrent_update"
    assert stale.version == 1
    loaded = store.get_payment(merchant_id="mer_a", payment_id=payment.id)
    assert loaded is not None and (loaded.status, loaded.version) == (PaymentState.CANCELED, 2)


def test_deferred_payment_writes_leave_together_before_any_other_statement(store: Store) -> None:
    """A batch of timers defers its payment updates; any other statement (or a read of the same
    payment) sends them first, in one executemany, so nothing ever reads a stale row."""
    made = [_payment(at=T0 + timedelta(milliseconds=i)) for i in range(3)]
    for payment in made:
        store.insert_payment(payment)
    loaded_all = [store.get_payment(merchant_id="mer_a", payment_id=p.id) for p in made]  # read before
    store.defer_writes = True
    for loaded in loaded_all:
        assert loaded is not None
        loaded.status = PaymentState.CANCELED
        store.update_payment(loaded)
        store.update_payment(loaded)  # twice in the batch: one write, two versions on
        assert loaded.version == 3
    assert len(store.deferred) == 3
    listed = store.list_payments(merchant_id="mer_a", limit=10).items  # another statement: sent first
    assert store.deferred == {}
    assert {(p.status, p.version) for p in listed} == {(PaymentState.CANCELED, 3)}


def test_a_deferred_write_of_a_stale_copy_is_still_a_conflict(store: Store) -> None:
    payment = _payment()
    store.insert_payment(payment)
    store.defer_writes = True
    first = store.get_payment(merchant_id="mer_a", payment_id=payment.id)
    stale = Store(store.conn).get_payment(merchant_id="mer_a", payment_id=payment.id)  # another unit's copy
    assert first is not None and stale is not None
    first.status = PaymentState.CANCELED
    store.update_payment(first)
    stale.status = PaymentState.AUTHORIZED
    with pytest.raises(Conflict):
        store.update_payment(stale)  # the first copy is sent, then this one's version check fails
    loaded = store.get_payment(merchant_id="mer_a", payment_id=payment.id)
    assert loaded is not None and (loaded.status, loaded.version) == (PaymentState.CANCELED, 2)


def test_a_deferred_write_of_a_payment_changed_meanwhile_is_a_conflict_when_sent(store: Store) -> None:
    payment = _payment()
    store.insert_payment(payment)
    loaded = store.get_payment(merchant_id="mer_a", payment_id=payment.id)
    assert loaded is not None
    store.conn.execute(schema.payments.update().values(version=7))  # another writer got there first
    store.defer_writes = True
    loaded.status = PaymentState.CANCELED
    store.update_payment(loaded)
    with pytest.raises(Conflict):
        store.flush_deferred()


def test_an_update_under_another_merchant_changes_nothing(store: Store) -> None:
    payment = _payment()
    store.insert_payment(payment)
    payment.merchant_id = "mer_b"
    with pytest.raises(Conflict):
        store.update_payment(payment)


def test_the_redirect_token_is_unique(database: Database) -> None:
    with database.transaction() as conn:
        Store(conn).insert_merchant(Merchant(id="mer_a", name="a", created_at=T0))
        Store(conn).insert_payment(_payment(redirect_token="same"))
    with pytest.raises(IntegrityError), database.transaction() as conn:
        Store(conn).insert_payment(_payment(redirect_token="same"))


# --- pagination ------------------------------------------------------------------------------------


def test_list_payments_pages_newest_first(store: Store) -> None:
    made = [_payment(at=T0 + timedelta(seconds=n)) for n in range(7)]
    for p in made:
        store.insert_payment(p)
    store.insert_payment(_payment("mer_b"))
    newest_first = [p.id for p in reversed(made)]

    def ids(**kw: object) -> tuple[list[str], bool]:
        page = store.list_payments(merchant_id="mer_a", **kw)  # type: ignore[arg-type]
        return [p.id for p in page.items], page.has_more

    assert ids(limit=10) == (newest_first, False)
    assert ids(limit=7) == (newest_first, False)
    assert ids(limit=3) == (newest_first[:3], True)
    assert ids(limit=3, starting_after=newest_first[2]) == (newest_first[3:6], True)
    assert ids(limit=3, starting_after=newest_first[5]) == (newest_first[6:], False)
    assert ids(limit=3, starting_after=newest_first[6]) == ([], False)
    # Backwards: the page just before the cursor, still newest first.
    assert ids(limit=2, ending_before=newest_first[6]) == (newest_first[4:6], True)
    assert ids(limit=3, ending_before=newest_first[3]) == (newest_first[0:3], False)
    assert ids(limit=3, ending_before=newest_first[0]) == ([], False)
    assert ids(limit=10, status="requires_action")[0] == newest_first
    assert ids(limit=10, status="succeeded") == ([], False)
    assert ids(limit=10, created_gte=T0 + timedelta(seconds=2), created_lt=T0 + timedelta(seconds=4))[0] == [
        made[3].id, made[2].id,
    ]  # fmt: skip


def test_walking_every_page_visits_each_payment_once(store: Store) -> None:
    made = [_payment(at=T0 + timedelta(milliseconds=n)) for n in range(11)]
    for p in made:
        store.insert_payment(p)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = store.list_payments(merchant_id="mer_a", limit=4, starting_after=cursor)
        seen.extend(p.id for p in page.items)
        if not page.has_more:
            break
        cursor = page.items[-1].id
    assert seen == [p.id for p in reversed(made)]
    back: list[str] = []
    cursor = seen[-1]
    while True:
        page = store.list_payments(merchant_id="mer_a", limit=4, ending_before=cursor)
        back = [p.id for p in page.items] + back
        if not page.has_more:
            break
        cursor = page.items[0].id
    assert back == seen[:-1]


def test_list_events_pages_and_filters(store: Store) -> None:
    payment = _payment()
    other = _payment()
    store.insert_payment(payment)
    store.insert_payment(other)
    events = [_event(payment, n) for n in range(5)] + [_event(other, 9)]
    store.insert_events(events)
    first = store.list_events(merchant_id="mer_a", limit=2, payment_id=payment.id)
    assert [e.id for e in first.items] == [events[4].id, events[3].id] and first.has_more
    rest = store.list_events(merchant_id="mer_a", limit=5, payment_id=payment.id, starting_after=events[3].id)
    assert [e.id for e in rest.items] == [events[2].id, events[1].id, events[0].id] and not rest.has_more
    before = store.list_events(merchant_id="mer_a", limit=2, ending_before=events[1].id)
    assert [e.id for e in before.items] == [events[3].id, events[2].id] and before.has_more
    assert [e.id for e in store.list_events(merchant_id="mer_a", limit=9, type="payment.t9").items] == [events[5].id]
    assert len(store.list_events(merchant_id="mer_a", limit=9, type="payment.*").items) == 6
    assert store.list_events(merchant_id="mer_b", limit=9).items == []
    assert store.get_event(merchant_id="mer_a", event_id=events[0].id) == events[0]
    assert store.get_event(merchant_id="mer_b", event_id=events[0].id) is None


# --- reset -----------------------------------------------------------------------------------------


def test_delete_merchant_data_touches_only_that_merchant(database: Database) -> None:
    kasse = Kasse(database, hooks=hooks(), wall=FakeWall())
    a = create_merchant(kasse, name="A").id
    b = create_merchant(kasse, name="B").id
    for mid in (a, b):
        p = new_payment(kasse, mid)
        run(kasse, mid, payments.authorize, p.id)
        advance_clock(kasse, merchant_id=mid, seconds=2 * DAY_S)
        run(kasse, mid, refunds.create_refund, p.id, amount_minor=100)
        with kasse.unit(merchant_id=mid) as tx:
            tx.store.insert_idempotency(
                merchant_id=mid, scope="native", key="k", fingerprint="f", response_status=200,
                response_body="{}", response_headers={}, created_at=tx.now,
            )  # fmt: skip
    with kasse.read() as store:
        before_b = row_counts(store, b)
    assert all(before_b[t] > 0 for t in ("payments", "captures", "refunds", "events", "timers", "ledger_legs"))
    with database.transaction() as conn:
        Store(conn).delete_merchant_data(merchant_id=a)
    with kasse.read() as store:
        after_a, after_b = row_counts(store, a), row_counts(store, b)
        assert store.get_merchant(merchant_id=a) is not None
        (clock_offset,) = store.conn.execute(
            select(schema.merchants.c.clock_offset_us).where(schema.merchants.c.id == a)
        ).scalars()
    assert after_b == before_b
    assert after_a["merchants"] == 2 and after_a["credentials"] == before_b["credentials"]
    assert all(n == 0 for t, n in after_a.items() if t not in ("merchants", "credentials"))
    assert clock_offset == 2 * DAY_S * 1_000_000  # the clock is the merchant's setting, not its data
    check(kasse)


def _hold_writer(url: str, entered: Any, release: Any) -> None:
    with Database(url).transaction():
        entered.set()
        release.wait(10)


def test_sqlite_writers_of_other_processes_queue_on_the_writer_lock_file(tmp_path: Path) -> None:
    """A writer in one process holds the lock file beside the database; another process's writer
    waits on it (woken when it is released) instead of polling SQLite's busy handler."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    Database(url).migrate()
    ctx = multiprocessing.get_context("spawn")
    entered, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_writer, args=(url, entered, release))
    holder.start()
    try:
        assert entered.wait(20), "the other process never began its write transaction"
        lock_file = tmp_path / "shared.db-writer"
        fd = os.open(lock_file, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            release.set()
            holder.join(20)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once that transaction ended
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        with Database(url).transaction() as conn:  # and this process writes again
            conn.execute(text("SELECT 1"))
    finally:
        release.set()
        holder.join(20)
        if holder.is_alive():
            holder.kill()
    assert holder.exitcode == 0
