"""Clock advances that race each other, the scheduler and the delivery worker (issue 10): concurrent
advances of one merchant serialize (no deadlock, each moves the clock once), an advance can carry an
``Idempotency-Key``, and transient database errors are retried inside or answered 409, never 500."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from kasse.delivery import clock
from kasse.delivery.worker import Deliverer
from kasse.dialects.registry import outbound
from kasse.domain.models import CaptureMethod, Method
from kasse.engine import captures, payments, timers
from kasse.engine.unit import Kasse
from kasse.web.workers import Scheduler
from tests.conftest import AUTH
from tests.helpers import DAY_S, FakeWall, check, new_payment, run

PAYMENTS = 110  # two captures each: 220 settlement timers, more than one batch of fire_batch


def _crossing_captures(kasse: Kasse, merchant_id: str) -> None:
    """Two partial captures of each payment, the second ones in the opposite order: the settlement timers
    of one batch lock the payments ascending, the next batch's descending."""
    made = []
    for _ in range(PAYMENTS):
        p = new_payment(kasse, merchant_id, amount_minor=10_000, method=Method.KLARNA_PAY_LATER,
                        capture_method=CaptureMethod.MANUAL)  # fmt: skip
        run(kasse, merchant_id, payments.authorize, p.id)
        run(kasse, merchant_id, captures.capture, p.id, amount_minor=4000, final=False)
        made.append(p.id)
    for pid in reversed(made):
        run(kasse, merchant_id, captures.capture, pid, amount_minor=3000, final=False)


def _at_once(calls: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls), timeout=20)
    results: list[Any] = [None] * len(calls)

    def worker(n: int) -> None:
        barrier.wait()
        try:
            results[n] = calls[n]()
        except BaseException as exc:  # surfaced by the callers' assertions
            results[n] = exc

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


def _offset_s(client: TestClient) -> float:
    body: dict[str, Any] = client.get("/_sandbox/clock", headers=AUTH).json()
    return float(body["offset_seconds"])


def test_concurrent_advances_over_crossing_timers_serialize(app: Any, kasse: Kasse, merchant_id: str) -> None:
    _crossing_captures(kasse, merchant_id)
    with TestClient(app, raise_server_exceptions=False) as client:
        post = lambda: client.post("/_sandbox/clock/advance", json={"seconds": 2 * DAY_S}, headers=AUTH)  # noqa: E731
        answers = _at_once([post, post])
        assert [a.status_code for a in answers] == [200, 200], [a.text[:300] for a in answers]
        # Each advance moved the clock once: the second waited for the first, then made its own move.
        assert _offset_s(client) == 4 * DAY_S
        # The first fired everything due in its two days (the 220 settlements first); the second, nothing.
        fired = sorted(len(a.json()["fired"]) for a in answers)
        assert fired[0] == 0 and fired[1] >= 2 * PAYMENTS
        nows = sorted(a.json()["now"] for a in answers)
        assert nows[0] < nows[1]
    with kasse.read() as store:
        assert store.count_due_timers(merchant_id=merchant_id, until=kasse.merchant_now(merchant_id=merchant_id)) == 0
    check(kasse, merchant_id)


def test_the_scheduler_racing_an_advance_does_not_deadlock(kasse: Kasse, merchant_id: str, wall: FakeWall) -> None:
    """The scheduler's pass over crossing timers and an advance at once: each timer fires once, no error."""
    _crossing_captures(kasse, merchant_id)
    wall.tick(2 * DAY_S)  # every settlement is due on the live clock: the scheduler fires them too
    deliverer = Deliverer(kasse, outbound=outbound(), base_url="http://127.0.0.1:1")
    results = _at_once(
        [lambda: Scheduler(kasse).run_once(), lambda: clock.advance(deliverer, merchant_id=merchant_id, seconds=DAY_S)]
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    with kasse.read() as store:
        assert store.pending_timers(merchant_id=merchant_id) == [] or all(
            t.due_at > kasse.merchant_now(merchant_id=merchant_id)
            for t in store.pending_timers(merchant_id=merchant_id)
        )
    check(kasse, merchant_id)


def _advance(client: TestClient, seconds: float, key: str | None = None) -> Any:
    headers = {**AUTH, "Idempotency-Key": key} if key else AUTH
    return client.post("/_sandbox/clock/advance", json={"seconds": seconds}, headers=headers)


def test_an_advance_with_an_idempotency_key_moves_the_clock_once(app: Any) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = _at_once([lambda: _advance(client, 3600, "adv-1")] * 3)
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert len({a.text for a in answers}) == 1  # one answer, replayed
        assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 2
        assert _advance(client, 3600, "adv-1").json() == answers[0].json()
        assert _offset_s(client) == 3600
        other = _advance(client, 60, "adv-1")  # the same key with another body: refused, nothing moves
        assert other.status_code == 422
        assert other.json()["error"]["code"] == "idempotency_key_reused"
        assert _offset_s(client) == 3600
        assert _advance(client, 60, "adv-2").status_code == 200
        assert _offset_s(client) == 3660


class _Deadlock(Exception):
    sqlstate = "40P01"


def _deadlocking(real: Any, failures: list[int]) -> Any:
    def fire_batch(*args: Any, **kwargs: Any) -> Any:
        if failures[0] > 0:
            failures[0] -= 1
            raise OperationalError("UPDATE payments …", {}, _Deadlock("deadlock detected"))
        return real(*args, **kwargs)

    return fire_batch


def test_a_deadlock_is_retried_inside(
    app: Any, kasse: Kasse, merchant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = new_payment(kasse, merchant_id)
    run(kasse, merchant_id, payments.authorize, p.id)
    monkeypatch.setattr(timers, "fire_batch", _deadlocking(timers.fire_batch, [2]))
    with TestClient(app, raise_server_exceptions=False) as client:
        r = _advance(client, 2 * DAY_S)
        assert r.status_code == 200, r.text
        assert r.json()["fired"] and _offset_s(client) == 2 * DAY_S
    check(kasse, merchant_id)


def test_a_lasting_conflict_is_409_and_the_key_finishes_it_without_a_second_move(
    app: Any, kasse: Kasse, merchant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = new_payment(kasse, merchant_id)
    run(kasse, merchant_id, payments.authorize, p.id)
    failures = [1000]
    monkeypatch.setattr(timers, "fire_batch", _deadlocking(timers.fire_batch, failures))
    with TestClient(app, raise_server_exceptions=False) as client:
        r = _advance(client, 2 * DAY_S, "adv-x")
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] == "database_conflict"
        assert _offset_s(client) == 2 * DAY_S  # moved; nothing fired
        failures[0] = 0
        again = _advance(client, 2 * DAY_S, "adv-x")
        assert again.status_code == 200, again.text
        assert _offset_s(client) == 2 * DAY_S  # no second move: the key finished the first advance
        assert again.json()["fired"]  # what fell due in the first advance's window fired now
    check(kasse, merchant_id)
