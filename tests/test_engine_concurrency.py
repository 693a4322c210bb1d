"""Races that the design says the engine wins: a row lock (PostgreSQL) or the single writer (SQLite)
serialises them, so each outcome is one of the sequential ones and the invariants hold."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kasse.domain.errors import DomainError
from kasse.domain.models import CaptureMethod, Method, TimerKind
from kasse.domain.states import PaymentState
from kasse.engine import captures, payments, refunds, timers
from kasse.engine.unit import Kasse
from tests.helpers import DAY_S, FakeWall, advance_clock, check, load_payment, new_payment, run


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once in threads; each result or the DomainError it raised, in call order."""
    barrier = threading.Barrier(len(calls), timeout=20)
    results: list[Any] = [None] * len(calls)

    def worker(n: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[n] = call()
        except DomainError as exc:
            results[n] = exc
        except BaseException as exc:  # pragma: no cover - surfaced by the assertion below
            results[n] = exc

    threads = [threading.Thread(target=worker, args=(n, c)) for n, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert not [r for r in results if isinstance(r, BaseException) and not isinstance(r, DomainError)], results
    return results


def test_racing_captures_never_take_more_than_the_hold(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, amount_minor=10_000, method=Method.KLARNA_PAY_LATER,
                    capture_method=CaptureMethod.MANUAL)  # fmt: skip
    run(kasse, merchant_id, payments.authorize, p.id)
    capture = lambda: run(kasse, merchant_id, captures.capture, p.id, amount_minor=6000, final=False)  # noqa: E731
    results = _together(capture, capture, capture)
    assert sum(not isinstance(r, DomainError) for r in results) == 1
    assert all(r.code == "amount_too_large" for r in results if isinstance(r, DomainError))
    stored = load_payment(kasse, merchant_id, p.id)
    assert (stored.amount_captured_minor, stored.amount_capturable_minor) == (6000, 4000)
    check(kasse, merchant_id)


def test_racing_refunds_never_exceed_the_captured_amount(kasse: Kasse, merchant_id: str) -> None:
    p = new_payment(kasse, merchant_id, amount_minor=1000)
    run(kasse, merchant_id, payments.authorize, p.id)
    advance_clock(kasse, merchant_id=merchant_id, seconds=2 * DAY_S)
    refund = lambda: run(kasse, merchant_id, refunds.create_refund, p.id, amount_minor=400)  # noqa: E731
    results = _together(refund, refund, refund)
    assert sum(not isinstance(r, DomainError) for r in results) == 2
    assert load_payment(kasse, merchant_id, p.id).amount_refunded_minor == 800
    check(kasse, merchant_id)


def test_the_return_and_the_expiry_racing_leave_one_outcome(kasse: Kasse, merchant_id: str, wall: FakeWall) -> None:
    made = [new_payment(kasse, merchant_id, expires_in_s=60).id for _ in range(6)]
    wall.tick(61)  # every expiry is due; the customers come back at the same moment

    def customers() -> list[object]:
        out: list[object] = []
        for pid in made:
            try:
                out.append(run(kasse, merchant_id, payments.authorize, pid))
            except DomainError as exc:
                out.append(exc)
        return out

    _, returns = _together(lambda: timers.fire_due(kasse, merchant_id=merchant_id), customers)
    for pid, outcome in zip(made, returns, strict=True):
        status = load_payment(kasse, merchant_id, pid).status
        if isinstance(outcome, DomainError):
            assert status is PaymentState.EXPIRED
        else:
            assert status in (PaymentState.PROCESSING, PaymentState.SUCCEEDED)
    with kasse.read() as store:
        waiting = {t.kind for t in store.pending_timers(merchant_id=merchant_id)}
    assert waiting <= {TimerKind.CAPTURE_SETTLEMENT}  # every expiry fired, whether it had work or not
    check(kasse, merchant_id)


def test_concurrent_schedulers_fire_each_timer_once(kasse: Kasse, merchant_id: str, wall: FakeWall) -> None:
    made = {new_payment(kasse, merchant_id, expires_in_s=10 + n).id for n in range(12)}
    wall.tick(DAY_S)
    fire = lambda: timers.fire_due(kasse, merchant_id=merchant_id)  # noqa: E731
    results = _together(fire, fire, fire)
    fired = [f.subject_id for batch in results for f in batch]
    assert sorted(fired) == sorted(made)  # all of them, none twice
    assert all(load_payment(kasse, merchant_id, pid).status is PaymentState.EXPIRED for pid in made)
    with kasse.read() as store:
        expired = store.list_events(merchant_id=merchant_id, limit=100, type="payment.expired").items
    assert len(expired) == 12
    check(kasse, merchant_id)
