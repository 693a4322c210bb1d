"""Timers and merchant clocks on both databases: due order, exactly once, at the due time, per merchant."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from kasse.dialects.registry import hooks
from kasse.domain.models import CaptureMethod, Method, TimerKind
from kasse.domain.states import PaymentState
from kasse.engine import payments, timers
from kasse.engine.merchants import create_merchant, ensure_sandbox_merchant
from kasse.engine.unit import Kasse, Tx
from kasse.storage import schema
from kasse.storage.db import Database
from tests.helpers import DAY_S, FakeWall, advance_clock, check, dump, load_payment, new_payment, run


@pytest.fixture(autouse=True)
def _consistent_afterwards(request: pytest.FixtureRequest) -> Iterator[None]:
    kasse = request.getfixturevalue("kasse") if "kasse" in request.fixturenames else None
    yield
    if kasse is not None:
        check(kasse)


def test_timers_fire_in_due_order_each_at_its_due_time(kasse: Kasse, merchant_id: str) -> None:
    start = kasse.merchant_now(merchant_id=merchant_id)
    made = {s: new_payment(kasse, merchant_id, expires_in_s=s).id for s in (300, 100, 200)}
    reading = advance_clock(kasse, merchant_id=merchant_id, seconds=1000)
    assert reading.now == start + timedelta(seconds=1000)
    assert [(f.kind, f.subject_id) for f in reading.fired] == [
        (TimerKind.PAYMENT_EXPIRY, made[100]), (TimerKind.PAYMENT_EXPIRY, made[200]),
        (TimerKind.PAYMENT_EXPIRY, made[300]),
    ]  # fmt: skip
    assert [f.due_at for f in reading.fired] == [start + timedelta(seconds=s) for s in (100, 200, 300)]
    with kasse.read() as store:
        for seconds, pid in made.items():
            payment = store.get_payment(merchant_id=merchant_id, payment_id=pid)
            assert payment is not None and payment.status is PaymentState.EXPIRED
            # The expiry happened at its due time, not at the end of the advance.
            assert payment.updated_at == start + timedelta(seconds=seconds)
            (expired,) = store.list_events(
                merchant_id=merchant_id, limit=10, payment_id=pid, type="payment.expired"
            ).items
            assert expired.created_at == start + timedelta(seconds=seconds)
        assert store.pending_timers(merchant_id=merchant_id) == []


def test_a_timer_scheduled_earlier_in_a_batch_fires_before_the_batch_s_later_ones(
    database: Database, wall: FakeWall, merchant_id: str
) -> None:
    """A handler schedules a timer due after the batch's next one but before the one after it: it fires
    in due order all the same (hypothesis found the batch only looked at the last handler's timers)."""

    def first(tx: Tx, subject_id: str) -> None:
        tx.schedule("test_late", subject_id, after_s=100)

    def nothing(tx: Tx, subject_id: str) -> None:
        pass

    handlers = {"test_first": first, "test_second": nothing, "test_late": nothing, "test_last": nothing}
    kasse = Kasse(database, hooks=dataclasses.replace(hooks(), timer_handlers=handlers), wall=wall)
    ensure_sandbox_merchant(kasse)
    start = kasse.merchant_now(merchant_id=merchant_id)
    with kasse.unit(merchant_id=merchant_id) as tx:
        for kind, after_s in (("test_first", 10), ("test_second", 20), ("test_last", 1000)):
            tx.schedule(kind, "sub_1", after_s=after_s)
    fired = advance_clock(kasse, merchant_id=merchant_id, seconds=2000).fired
    assert [(f.kind, f.due_at) for f in fired] == [
        ("test_first", start + timedelta(seconds=10)), ("test_second", start + timedelta(seconds=20)),
        ("test_late", start + timedelta(seconds=110)), ("test_last", start + timedelta(seconds=1000)),
    ]  # fmt: skip


def test_timers_fire_exactly_once(kasse: Kasse, merchant_id: str) -> None:
    new_payment(kasse, merchant_id)
    assert len(advance_clock(kasse, merchant_id=merchant_id, seconds=DAY_S).fired) == 1
    before = dump(kasse)
    assert timers.fire_due(kasse, merchant_id=merchant_id) == []
    assert advance_clock(kasse, merchant_id=merchant_id, seconds=0).fired == []
    after = dump(kasse)
    assert {k: v for k, v in after.items() if k != "merchants"} == {k: v for k, v in before.items() if k != "merchants"}
    with kasse.read() as store:
        query = select(schema.timers.c.fired_at).where(schema.timers.c.merchant_id == merchant_id)
        fired_at = list(store.conn.execute(query).scalars())
    assert len(fired_at) == 1 and fired_at[0] is not None


def test_a_chain_of_timers_fires_within_one_advance(kasse: Kasse, merchant_id: str) -> None:
    """Authorization expiry, settlement: ten days in one jump run the whole life of a payment."""
    p = new_payment(kasse, merchant_id, amount_minor=5000)
    run(kasse, merchant_id, payments.authorize, p.id)
    fired = advance_clock(kasse, merchant_id=merchant_id, seconds=10 * DAY_S).fired
    assert [f.kind for f in fired] == [TimerKind.PAYMENT_EXPIRY, TimerKind.CAPTURE_SETTLEMENT]
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.SUCCEEDED


def test_a_timer_whose_subject_moved_on_does_nothing(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, method=Method.KLARNA_PAY_NOW, capture_method=CaptureMethod.MANUAL)
    run(kasse, merchant_id, payments.authorize, p.id)
    run(kasse, merchant_id, payments.cancel, p.id)
    with kasse.read() as store:
        events_before = len(store.list_events(merchant_id=merchant_id, limit=100).items)
        transfers_before = len(store.all_transfers(merchant_id=merchant_id))
    fired = advance_clock(kasse, merchant_id=merchant_id, seconds=8 * DAY_S).fired
    assert [f.kind for f in fired] == [TimerKind.PAYMENT_EXPIRY, TimerKind.AUTHORIZATION_EXPIRY]
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.CANCELED
    with kasse.read() as store:
        assert len(store.list_events(merchant_id=merchant_id, limit=100).items) == events_before
        assert len(store.all_transfers(merchant_id=merchant_id)) == transfers_before


def test_advancing_over_the_same_range_twice_fires_nothing_new(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id)
    run(kasse, merchant_id, payments.authorize, p.id)
    assert len(advance_clock(kasse, merchant_id=merchant_id, seconds=3 * DAY_S).fired) == 2
    frozen = timers.freeze_clock(kasse, merchant_id=merchant_id)
    assert timers.fire_due(kasse, merchant_id=merchant_id, until=frozen.now + timedelta(days=1)) == []
    assert advance_clock(kasse, merchant_id=merchant_id, seconds=DAY_S).fired == []


def test_a_negative_advance_is_refused(kasse: Kasse, merchant_id: str) -> None:
    before = dump(kasse)
    with pytest.raises(ValueError, match="forward"):
        advance_clock(kasse, merchant_id=merchant_id, seconds=-1)
    assert dump(kasse) == before


def test_freeze_advance_resume(kasse: Kasse, merchant_id: str, wall: FakeWall) -> None:
    start = timers.read_clock(kasse, merchant_id=merchant_id)
    assert not start.frozen and start.now == wall()
    frozen = timers.freeze_clock(kasse, merchant_id=merchant_id)
    assert frozen.frozen and frozen.now == start.now
    wall.tick(3600)  # wall time passes, the frozen clock does not
    assert timers.read_clock(kasse, merchant_id=merchant_id).now == start.now
    p = new_payment(kasse, merchant_id, expires_in_s=60)
    assert p.created_at == start.now
    advanced = advance_clock(kasse, merchant_id=merchant_id, seconds=120)
    assert advanced.frozen and advanced.now == start.now + timedelta(seconds=120)
    assert [f.subject_id for f in advanced.fired] == [p.id]
    resumed = timers.resume_clock(kasse, merchant_id=merchant_id)
    assert not resumed.frozen and resumed.now == start.now + timedelta(seconds=120)  # no jump
    wall.tick(30)
    assert timers.read_clock(kasse, merchant_id=merchant_id).now == start.now + timedelta(seconds=150)


def test_a_live_clock_moves_with_the_wall_and_its_offset(kasse: Kasse, merchant_id: str, wall: FakeWall) -> None:
    start = wall()
    reading = advance_clock(kasse, merchant_id=merchant_id, seconds=DAY_S)
    assert (reading.now, reading.offset_s, reading.frozen) == (start + timedelta(days=1), DAY_S, False)
    wall.tick(10)
    assert kasse.merchant_now(merchant_id=merchant_id) == start + timedelta(days=1, seconds=10)


def test_wall_time_alone_makes_timers_due_for_the_scheduler(kasse: Kasse, merchant_id: str, wall: FakeWall) -> None:
    p = new_payment(kasse, merchant_id, expires_in_s=60)
    assert timers.fire_due(kasse, merchant_id=merchant_id) == []
    wall.tick(61)
    (fired,) = timers.fire_due(kasse, merchant_id=merchant_id)
    assert fired.subject_id == p.id
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.EXPIRED


def test_each_merchant_has_its_own_clock_and_timers(kasse: Kasse, merchant_id: str) -> None:
    other = create_merchant(kasse, name="Other").id
    mine = new_payment(kasse, merchant_id)
    theirs = new_payment(kasse, other)
    fired = advance_clock(kasse, merchant_id=other, seconds=2 * DAY_S).fired
    assert [f.subject_id for f in fired] == [theirs.id]
    assert load_payment(kasse, other, theirs.id).status is PaymentState.EXPIRED
    assert load_payment(kasse, merchant_id, mine.id).status is PaymentState.REQUIRES_ACTION
    assert kasse.merchant_now(merchant_id=other) - kasse.merchant_now(merchant_id=merchant_id) == timedelta(days=2)
    timers.freeze_clock(kasse, merchant_id=other)
    assert not timers.read_clock(kasse, merchant_id=merchant_id).frozen


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("6h", 21600), ("1d12h", 129600)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert timers.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "1d5", "h"])
def test_parse_duration_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        timers.parse_duration(text)
