"""Units of work (one transaction or nothing), tenancy, and idempotency keys, on both databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from kasse.domain.errors import IdempotencyMismatch, InvalidRequest, NotFound
from kasse.domain.models import CaptureMethod, Method
from kasse.domain.states import PaymentState
from kasse.engine import captures, payments, refunds
from kasse.engine.idempotency import Outcome, run_idempotent
from kasse.engine.merchants import create_merchant
from kasse.engine.unit import Kasse, Tx
from kasse.storage import schema
from kasse.storage.db import Database
from kasse.storage.store import Store
from tests.helpers import DAY_S, advance_clock, check, dump, leaves_no_trace, load_payment, new_payment, row_counts, run


@pytest.fixture(autouse=True)
def _consistent_afterwards(kasse: Kasse) -> Iterator[None]:
    yield
    check(kasse)


def _cmd(**fields: Any) -> payments.CreatePayment:
    values: dict[str, Any] = {
        "amount_minor": 1000,
        "currency": "EUR",
        "method": Method.SOFORT,
        "country": "DE",
        "origin": "native",
    }
    return payments.CreatePayment(**(values | fields))


# --- one transaction or nothing --------------------------------------------------------------------


def test_a_rejected_create_leaves_no_rows(kasse: Kasse, merchant_id: str) -> None:
    with leaves_no_trace(kasse, InvalidRequest):
        run(kasse, merchant_id, payments.create_payment, _cmd(currency="XYZ"))
    with kasse.read() as store:
        counts = row_counts(store, merchant_id)
    assert counts["payments"] == counts["events"] == counts["timers"] == counts["ledger_transfers"] == 0


def test_an_error_late_in_a_unit_undoes_everything_before_it(kasse: Kasse, merchant_id: str) -> None:
    before = dump(kasse)
    with pytest.raises(InvalidRequest), kasse.unit(merchant_id=merchant_id) as tx:
        p = payments.create_payment(tx, _cmd(method=Method.KLARNA_PAY_NOW, capture_method=CaptureMethod.MANUAL))
        payments.authorize(tx, p.id)  # writes a payment, events, a timer and a ledger hold
        assert tx.store.get_payment(merchant_id=merchant_id, payment_id=p.id) is not None
        captures.capture(tx, p.id, amount_minor=p.amount_minor + 1)
    assert dump(kasse) == before


def test_an_unexpected_exception_also_rolls_back(kasse: Kasse, merchant_id: str) -> None:
    before = dump(kasse)
    with pytest.raises(RuntimeError, match="boom"), kasse.unit(merchant_id=merchant_id) as tx:
        payments.create_payment(tx, _cmd())
        raise RuntimeError("boom")
    assert dump(kasse) == before


def test_a_failure_while_writing_events_and_timers_rolls_back_the_payment(
    kasse: Kasse, merchant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Store, timers: list[object]) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Store, "insert_timers", broken)
    before = dump(kasse)
    with pytest.raises(OSError, match="disk full"):
        new_payment(kasse, merchant_id)
    assert dump(kasse) == before


def test_a_unit_for_an_unknown_merchant_is_not_found(kasse: Kasse) -> None:
    with pytest.raises(NotFound) as err, kasse.unit(merchant_id="mer_nobody"):
        pass
    assert "mer_nobody" in err.value.message


# --- tenancy ---------------------------------------------------------------------------------------


UseCase = Callable[[Tx, str], object]


@pytest.mark.parametrize(
    "use_case",
    [
        payments.get_payment,
        payments.authorize,
        payments.decline,
        payments.cancel,
        captures.capture,
        refunds.create_refund,
    ],
    ids=lambda f: f.__name__,
)
def test_another_merchant_cannot_see_or_touch_a_payment(kasse: Kasse, merchant_id: str, use_case: UseCase) -> None:
    other = create_merchant(kasse, name="Other").id
    p = new_payment(kasse, merchant_id, method=Method.KLARNA_PAY_NOW)
    run(kasse, merchant_id, payments.authorize, p.id)
    with leaves_no_trace(kasse, NotFound) as err:
        run(kasse, other, use_case, p.id)
    assert err.value.code == "resource_missing"
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.PROCESSING


def test_another_merchant_cannot_see_a_refund_or_list_payments(kasse: Kasse, merchant_id: str) -> None:
    other = create_merchant(kasse, name="Other").id
    p = new_payment(kasse, merchant_id)
    run(kasse, merchant_id, payments.authorize, p.id)
    refund = run(kasse, merchant_id, refunds.create_refund, p.id)
    with pytest.raises(NotFound):
        run(kasse, other, refunds.get_refund, refund.id)
    assert run(kasse, merchant_id, refunds.get_refund, refund.id).id == refund.id
    with kasse.read() as store:
        assert store.list_payments(merchant_id=other, limit=10).items == []
        assert store.list_events(merchant_id=other, limit=10).items == []
        assert store.all_transfers(merchant_id=other) == []
        assert store.get_payment(merchant_id=other, payment_id=p.id) is None
    advance_clock(kasse, merchant_id=other, seconds=10 * DAY_S)  # fires nothing of ours
    assert load_payment(kasse, merchant_id, p.id).status is PaymentState.PROCESSING


# --- idempotency -----------------------------------------------------------------------------------


def _creator(calls: list[str], **fields: Any) -> Callable[[Tx], tuple[int, Any]]:
    def operation(tx: Tx) -> tuple[int, Any]:
        payment = payments.create_payment(tx, _cmd(**fields))
        calls.append(payment.id)
        return 201, {"id": payment.id, "amount": payment.amount_minor}

    return operation


def _idem(kasse: Kasse, merchant_id: str, key: str | None, op: Callable[[Tx], tuple[int, Any]], **kw: str) -> Outcome:
    return run_idempotent(
        kasse, merchant_id=merchant_id, scope=kw.get("scope", "native"), key=key,
        fingerprint=kw.get("fingerprint", "fp-1"), operation=op,
    )  # fmt: skip


def _payment_count(kasse: Kasse, merchant_id: str) -> int:
    with kasse.read() as store:
        return row_counts(store, merchant_id)["payments"]


def test_a_key_replays_the_stored_response(kasse: Kasse, merchant_id: str) -> None:
    calls: list[str] = []
    first = _idem(kasse, merchant_id, "key-1", _creator(calls))
    second = _idem(kasse, merchant_id, "key-1", _creator(calls))
    assert (first.status, first.replayed) == (201, False)
    assert (second.status, second.body, second.replayed) == (201, first.body, True)
    assert calls == [first.body["id"]]
    assert _payment_count(kasse, merchant_id) == 1


def test_a_key_with_a_different_request_is_a_mismatch(kasse: Kasse, merchant_id: str) -> None:
    _idem(kasse, merchant_id, "key-1", _creator([]))
    with leaves_no_trace(kasse, IdempotencyMismatch) as err:
        _idem(kasse, merchant_id, "key-1", _creator([], amount_minor=2000), fingerprint="fp-2")
    assert err.value.code == "idempotency_key_reused" and "key-1" in err.value.message


def test_keys_are_scoped_per_merchant_and_front_door(kasse: Kasse, merchant_id: str) -> None:
    other = create_merchant(kasse, name="Other").id
    calls: list[str] = []
    _idem(kasse, merchant_id, "shared", _creator(calls))
    assert not _idem(kasse, other, "shared", _creator(calls)).replayed
    assert not _idem(kasse, merchant_id, "shared", _creator(calls), scope="stripe").replayed
    assert len(calls) == 3
    assert (_payment_count(kasse, merchant_id), _payment_count(kasse, other)) == (2, 1)


def test_without_a_key_every_request_runs(kasse: Kasse, merchant_id: str) -> None:
    calls: list[str] = []
    _idem(kasse, merchant_id, None, _creator(calls))
    _idem(kasse, merchant_id, None, _creator(calls))
    assert len(set(calls)) == 2


def test_a_failed_request_stores_no_key(kasse: Kasse, merchant_id: str) -> None:
    with leaves_no_trace(kasse, InvalidRequest):
        _idem(kasse, merchant_id, "key-1", _creator([], currency="USD"))
    calls: list[str] = []
    assert not _idem(kasse, merchant_id, "key-1", _creator(calls)).replayed
    assert len(calls) == 1


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_key_must_be_1_to_255_characters(kasse: Kasse, merchant_id: str, key: str) -> None:
    with leaves_no_trace(kasse, InvalidRequest) as err:
        _idem(kasse, merchant_id, key, _creator([]))
    assert err.value.code == "idempotency_key_invalid"


def test_two_racing_requests_with_one_key_create_one_payment(kasse: Kasse, merchant_id: str) -> None:
    """Both requests are inside their transactions, both found no stored key, both created a payment;
    the unique key lets one commit, the other rolls back and replays the winner's response."""
    racing = not kasse.db.is_sqlite  # SQLite runs one writer at a time: the second waits, then replays
    barrier = threading.Barrier(2, timeout=20)
    calls: list[str] = []
    results: list[Outcome] = []
    errors: list[BaseException] = []

    def operation(tx: Tx) -> tuple[int, Any]:
        status, body = _creator(calls)(tx)
        if racing:
            barrier.wait()
        else:
            time.sleep(0.05)
        return status, body

    def request(engine: Kasse) -> None:
        try:
            results.append(_idem(engine, merchant_id, "race", operation))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    # As from two processes: one process's writer commits its units one batch at a time, so two
    # transactions race only between processes (each engine on a Database of its own).
    other = Kasse(Database(kasse.db.url), hooks=kasse.hooks, wall=kasse.wall)
    threads = [threading.Thread(target=request, args=(engine,)) for engine in (kasse, other)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        other.db.dispose()
    assert errors == []
    assert len(results) == 2
    assert results[0].body == results[1].body
    assert sorted(r.replayed for r in results) == [False, True]
    assert len(calls) == (2 if racing else 1)  # on PostgreSQL both really ran
    with kasse.read() as store:
        counts = row_counts(store, merchant_id)
        (stored,) = store.conn.execute(select(schema.payments.c.id)).scalars()
    assert counts["payments"] == 1 and counts["idempotency_keys"] == 1
    assert counts["events"] == 1 and counts["timers"] == 1
    assert stored == results[0].body["id"]
