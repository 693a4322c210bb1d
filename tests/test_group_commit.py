"""Group commit (kasse.storage.writer): concurrent units of work committed together by one writer per
database, each in its own savepoint: a failing unit fails alone and leaves no trace, a failed commit
acknowledges none, a unit asked for inside a unit runs inline, and no acknowledged payment is lost when
the server is killed (SIGKILL) under load. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, select

from kasse.config import Settings
from kasse.dialects.registry import hooks
from kasse.domain.errors import DomainError, ErrorCode, InvalidRequest
from kasse.domain.models import Method, Payment
from kasse.engine import payments
from kasse.engine.idempotency import Outcome, fingerprint, run_idempotent
from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
from kasse.engine.unit import Kasse, Tx
from kasse.storage import schema
from kasse.storage.db import Database
from kasse.storage.writer import Writer
from tests.conftest import AUTH, _free_port, _wipe
from tests.helpers import check, row_counts

KASSE = str(Path(sys.executable).with_name("kasse"))
PAYMENT = {"currency": "EUR", "method": "sofort", "return_url": "https://shop.example/return"}


def _create(tx: Tx, amount_minor: int = 1000) -> Payment:
    return payments.create_payment(
        tx, payments.CreatePayment(origin="native", amount_minor=amount_minor, currency="EUR", method=Method.SOFORT)
    )


def _payment_ids(kasse: Kasse) -> set[str]:
    with kasse.read() as store:
        return set(store.conn.execute(select(schema.payments.c.id)).scalars())


def _writer(kasse: Kasse) -> Writer:
    assert kasse.writer is not None
    return kasse.writer


@pytest.fixture
def held_kasse(kasse: Kasse) -> Iterator[Kasse]:
    """The engine with one writer thread of its own (PostgreSQL's has several), so that a test can keep it
    busy and line units up behind it (``_held``)."""
    kasse.writer = Writer(kasse.db, threads=1)
    yield kasse
    kasse.writer.stop()


@contextmanager
def _held(kasse: Kasse, queued: int) -> Iterator[None]:
    """The writer busy with a unit until ``queued`` more wait in its queue: those then make one batch."""
    running, release = threading.Event(), threading.Event()
    writer = _writer(kasse)

    def hold(conn: Connection) -> bool:
        running.set()
        return release.wait(20)

    blocker = writer.submit(hold)
    try:
        assert running.wait(20)
        yield
        deadline = time.monotonic() + 20
        while writer._queue.qsize() < queued:
            assert time.monotonic() < deadline, f"{writer._queue.qsize()} of {queued} units queued"
            time.sleep(0.005)
    finally:
        release.set()
        assert blocker.result(timeout=20) is True


Started = tuple[list[threading.Thread], list[Any]]


def _in_threads(calls: list[Callable[[], Any]]) -> Started:
    """Each call started in a thread of its own (``_joined``: its result or what it raised, in order)."""
    results: list[Any] = [None] * len(calls)

    def worker(n: int) -> None:
        try:
            results[n] = calls[n]()
        except BaseException as exc:
            results[n] = exc

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    return threads, results


def _joined(started: Started) -> list[Any]:
    threads, results = started
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return list(results)


def test_units_waiting_together_commit_in_one_transaction(held_kasse: Kasse, merchant_id: str) -> None:
    kasse = held_kasse
    seen: list[tuple[Connection, str]] = []

    def create(tx: Tx) -> Payment:
        payment = _create(tx)
        seen.append((tx.store.conn, payment.id))
        return payment

    with _held(kasse, 8):
        started = _in_threads([lambda: kasse.run(merchant_id, create) for _ in range(8)])
    made = _joined(started)
    assert all(isinstance(p, Payment) for p in made), made
    assert len({id(conn) for conn, _ in seen}) == 1  # one connection, one transaction: one batch
    assert {p.id for p in made} == {pid for _, pid in seen} == _payment_ids(kasse)
    check(kasse, merchant_id)


def test_a_failing_unit_fails_alone_and_leaves_no_trace(held_kasse: Kasse, merchant_id: str) -> None:
    kasse = held_kasse
    """A domain error after writing, and a duplicate key (IntegrityError, which on PostgreSQL aborts the
    transaction until its savepoint is rolled back) in the middle of a batch: the others commit."""
    made: list[str] = []

    def fails_after_writing(tx: Tx) -> None:
        made.append(_create(tx).id)
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, "no")

    def keep_key(tx: Tx, *, then_create: bool = False) -> None:
        if then_create:
            made.append(_create(tx).id)
        tx.store.insert_idempotency(
            merchant_id=tx.merchant_id, scope="native", key="taken", fingerprint="f", response_status=201,
            response_body="{}", response_headers={}, created_at=tx.now,
        )  # fmt: skip

    calls: list[Callable[[], Any]] = [
        lambda: kasse.run(merchant_id, _create),
        lambda: kasse.run(merchant_id, keep_key),
        lambda: kasse.run(merchant_id, _create),
    ]
    with _held(kasse, 3):
        first = _in_threads(calls)
    ok = _joined(first)
    assert isinstance(ok[0], Payment) and ok[1] is None and isinstance(ok[2], Payment)
    with kasse.read() as store:
        before = row_counts(store, merchant_id)

    calls = [
        lambda: kasse.run(merchant_id, _create),
        lambda: kasse.run(merchant_id, fails_after_writing),
        lambda: kasse.run(merchant_id, _create),
        lambda: kasse.run(merchant_id, keep_key, then_create=True),
        lambda: kasse.run(merchant_id, _create),
    ]
    with _held(kasse, len(calls)):
        second = _in_threads(calls)
    results = _joined(second)
    assert isinstance(results[1], InvalidRequest)
    assert type(results[3]).__name__ == "IntegrityError", results[3]
    good = [results[0], results[2], results[4]]
    assert all(isinstance(p, Payment) for p in good), results
    with kasse.read() as store:
        after = row_counts(store, merchant_id)
    assert after["payments"] == before["payments"] + 3 and after["idempotency_keys"] == before["idempotency_keys"]
    assert after["events"] == before["events"] + 3 and after["timers"] == before["timers"] + 3
    stored = _payment_ids(kasse)
    assert {p.id for p in good} <= stored and not set(made) & stored  # the failed units' payments: gone
    check(kasse, merchant_id)


def _fail_at_commit(tx: Tx) -> None:
    """Write something only the commit checks (a deferred constraint), so the COMMIT itself fails."""
    conn = tx.store.conn
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS gc_parent (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS gc_child "
            "(parent INTEGER REFERENCES gc_parent (id) DEFERRABLE INITIALLY DEFERRED)"
        )
        conn.exec_driver_sql("INSERT INTO gc_child VALUES (1)")
    else:
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS gc_once (id INTEGER UNIQUE DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP"
        )
        conn.exec_driver_sql("INSERT INTO gc_once VALUES (1), (1)")


def test_a_failed_commit_acknowledges_none_of_its_batch(held_kasse: Kasse, merchant_id: str) -> None:
    kasse = held_kasse
    before = _payment_ids(kasse)
    calls: list[Callable[[], Any]] = [lambda: kasse.run(merchant_id, _create) for _ in range(4)]
    calls.insert(2, lambda: kasse.run(merchant_id, _fail_at_commit))
    with _held(kasse, len(calls)):
        started = _in_threads(calls)
    results = _joined(started)
    assert all(type(r).__name__ == "IntegrityError" for r in results), results
    assert _payment_ids(kasse) == before
    # The writer goes on: the next units commit.
    assert kasse.run(merchant_id, _create).id in _payment_ids(kasse)
    check(kasse, merchant_id)


def test_a_unit_run_inside_a_unit_runs_inline_in_the_same_commit(kasse: Kasse, merchant_id: str) -> None:
    def outer(tx: Tx) -> tuple[str, str, str | None]:
        failed = None
        mine = _create(tx).id
        inner = kasse.run(merchant_id, _create, 2000).id  # on the writer thread: inline, no deadlock
        try:
            kasse.run_locked(merchant_id, lambda t: [_create(t), t.store.conn.exec_driver_sql("SELECT nope")])
        except Exception as exc:  # the inner unit's savepoint rolled back; the outer goes on
            failed = type(exc).__name__
        return mine, inner, failed

    done: Future[tuple[str, str, str | None]] = Future()
    thread = threading.Thread(target=lambda: done.set_result(kasse.run(merchant_id, outer)))
    thread.start()
    mine, inner, failed = done.result(timeout=30)
    assert failed is not None and "Error" in failed
    assert _payment_ids(kasse) == {mine, inner}
    check(kasse, merchant_id)


def test_the_awaitable_form_and_the_engine_without_group_commit(kasse: Kasse, merchant_id: str) -> None:
    async def both() -> list[Payment]:
        return list(await asyncio.gather(*(kasse.arun(merchant_id, _create, n) for n in range(1, 6))))

    made = asyncio.run(both())
    plain = Kasse(kasse.db, hooks=kasse.hooks, wall=kasse.wall, group_commit=False)
    assert plain.writer is None
    made.append(plain.run(merchant_id, _create, 6))
    made.append(asyncio.run(plain.arun(merchant_id, _create, 7)))
    with pytest.raises(DomainError):
        asyncio.run(kasse.arun(merchant_id, lambda tx: _create(tx, -1)))
    assert sorted(p.amount_minor for p in made) == [1, 2, 3, 4, 5, 6, 7]
    assert {p.id for p in made} == _payment_ids(kasse)
    check(kasse, merchant_id)


def test_many_threads_creating_payments_each_answer_committed(kasse: Kasse, merchant_id: str) -> None:
    """16 threads, idempotent creates, each key sent by two threads: every answer's payment exists,
    each key made one payment, and the ledger balances."""
    threads, per_thread = 16, 12

    def create(tx: Tx) -> tuple[int, Any]:
        return 201, {"id": _create(tx).id}

    def client(n: int) -> list[Outcome]:
        keyed = [f"k-{(n // 2)}-{i}" for i in range(per_thread)]  # threads 2k and 2k+1 share keys
        return [
            run_idempotent(
                kasse,
                merchant_id=merchant_id,
                scope="native",
                key=key,
                fingerprint=fingerprint("POST", "/api/v1/payments", {}),
                operation=create,
            )
            for key in keyed
        ]

    results = _joined(_in_threads([lambda n=n: client(n) for n in range(threads)]))  # type: ignore[misc]
    assert not [r for r in results if isinstance(r, BaseException)], results
    answers = [o for outcomes in results for o in outcomes]
    assert all(o.status == 201 for o in answers)
    ids = {o.body["id"] for o in answers}
    assert ids == _payment_ids(kasse) and len(ids) == threads // 2 * per_thread
    assert sum(o.replayed for o in answers) == len(answers) - len(ids)
    check(kasse, merchant_id)


# --- kill -9 under load ---------------------------------------------------------------------------


def _serve(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASSE_")}
    env.update(KASSE_DATABASE_URL=url, KASSE_GROUP_COMMIT="1", KASSE_ADMIN_TOKEN="adm_fixed")
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [KASSE, "serve", "--port", str(port), "--no-workers"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        time.sleep(0.1)


def test_no_acknowledged_payment_is_lost_when_the_server_is_killed(
    kasse: Kasse, merchant_id: str, tmp_path: Path
) -> None:
    assert merchant_id == SANDBOX.id
    url = kasse.db.engine.url.render_as_string(hide_password=False)
    port = _free_port()
    proc = _serve(url, port, tmp_path / "serve.log")
    acknowledged: list[str] = []
    answered = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=10) as http:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = http.post(
                        "/api/v1/payments", json={**PAYMENT, "amount": 1000 + i},
                        headers={"Idempotency-Key": f"crash-{n}-{i}"},
                    )  # fmt: skip
                except httpx.HTTPError:
                    continue  # the server died under this request: not acknowledged
                if r.status_code == 201:
                    with answered:
                        acknowledged.append(r.json()["id"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(12)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 100:
            assert proc.poll() is None and time.monotonic() < deadline, len(acknowledged)
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with answered:
        acked = set(acknowledged)
    # A fresh engine on the database the killed process left: every acknowledged payment is there.
    after = Kasse(Database(url), hooks=kasse.hooks, group_commit=False)
    try:
        stored = _payment_ids(after)
        assert len(acked) >= 100 and acked <= stored, sorted(acked - stored)[:5]
        check(after, merchant_id)
    finally:
        after.db.dispose()


def test_a_deadlock_between_two_writers_runs_its_victim_again(pg_database: Database) -> None:
    """PostgreSQL only (SQLite has one writer at a time, so its writers cannot deadlock): two engines'
    writers (as of two processes) take two keys in opposite orders; the unit PostgreSQL picks as the
    deadlock's victim runs again and meets the other's committed key (IntegrityError), never a deadlock."""
    _wipe(pg_database)
    one = Kasse(pg_database, hooks=hooks())
    ensure_sandbox_merchant(one)
    one.writer = Writer(pg_database, threads=1)
    two = Kasse(Database(pg_database.url), hooks=hooks())
    two_has_y = threading.Event()

    def key(tx: Tx, name: str) -> str:
        tx.store.insert_idempotency(
            merchant_id=tx.merchant_id, scope="native", key=name, fingerprint="f", response_status=201,
            response_body="{}", response_headers={}, created_at=tx.now,
        )  # fmt: skip
        return name

    def then_y(tx: Tx) -> str:
        assert two_has_y.wait(20)
        time.sleep(0.3)  # the other writer waits for X by now
        return key(tx, "Y")

    def y_then_x(tx: Tx) -> str:
        key(tx, "Y")
        two_has_y.set()
        return key(tx, "X")

    try:
        with _held(one, 2):
            started = _in_threads([lambda: one.run(SANDBOX.id, key, "X"), lambda: one.run(SANDBOX.id, then_y)])
        two_started = _in_threads([lambda: two.run(SANDBOX.id, y_then_x)])
        results = _joined(started) + _joined(two_started)
    finally:
        one.writer.stop()
        two.db.dispose()
    assert results[:2] == ["X", "Y"], results
    assert type(results[2]).__name__ == "IntegrityError", results[2]


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("auto", None), ("1", True), ("false", False)])
def test_the_setting_and_its_default_on_each_database(
    kasse: Kasse, monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool | None
) -> None:
    if value is None:
        monkeypatch.delenv("KASSE_GROUP_COMMIT", raising=False)
    else:
        monkeypatch.setenv("KASSE_GROUP_COMMIT", value)
    monkeypatch.setenv("KASSE_GROUP_COMMIT_MAX", "16")
    settings = Settings.from_env()
    assert (settings.group_commit, settings.group_commit_max) == (expected, 16)
    engine = Kasse(kasse.db, hooks=kasse.hooks, group_commit=settings.group_commit)
    # Left to Kasse: on for SQLite, where it pays; off for PostgreSQL, where it measured no faster.
    assert (engine.writer is not None) == (kasse.db.is_sqlite if expected is None else expected)
