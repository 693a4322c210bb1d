"""Group commit: one writer per database per process commits concurrent units of work together.

A unit of work handed to the writer (a function of the transaction's connection) waits in a queue with a
future. The writer takes the first waiting unit and whatever else is queued (up to ``max_batch``), opens
one write transaction, runs each unit in a savepoint of its own — released when it returns, rolled back
when it raises, so a failing unit fails alone and leaves nothing behind — and commits once. Only then are
the units' futures resolved: an answer is given after its change is committed, and a commit that fails
fails every unit of the batch, none acknowledged. The way databases amortise their log's flush: one
commit (one fsync, one round trip) for many units, and on SQLite one turn of its single writer.

A batch of one runs without a savepoint (the transaction is the unit's own). A unit running on a
writer thread that asks for another runs it inline, in a savepoint of the batch's transaction. The
writer is one thread on SQLite (one writer at a time) and a few on PostgreSQL (``Writer``).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection

if TYPE_CHECKING:
    from kasse.storage.db import Database

__all__ = ["Work", "Writer"]

R = TypeVar("R")
Work = Callable[[Connection], R]

# An idle writer thread ends after this long; the next unit starts another.
IDLE_S = 5.0


class _Unit:
    __slots__ = ("future", "retried", "work")

    def __init__(self, work: Work[Any]) -> None:
        self.work = work
        self.future: Future[Any] = Future()
        self.retried = False


class Writer:
    """The database's writer: ``submit`` hands it a unit and returns the future of its result.

    ``threads`` writer threads at most take batches from the one queue: one for SQLite (it has one
    writer); on PostgreSQL a few, so that one batch's Python work overlaps another's round trips (a single
    writer thread would leave the server and the client waiting on each other in turn). A writer thread
    is started when a unit finds every running one busy, and ends after ``IDLE_S`` without work."""

    def __init__(self, db: Database, *, max_batch: int = 64, threads: int = 1) -> None:
        if max_batch < 1 or threads < 1:
            raise ValueError(f"a batch holds at least one unit, not {max_batch}; threads: at least 1, not {threads}")
        self.db = db
        self.max_batch = max_batch
        self.threads = threads
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Unit | None] = queue.SimpleQueue()
        self._running: set[threading.Thread] = set()
        self._idle = 0  # writer threads waiting for work
        self._busy = 0  # batches running (on writer threads, or a lone unit on its caller's)
        self._pid = os.getpid()
        self._here = threading.local()  # .conn: the batch's, on a writer thread running one
        self.batches = 0  # transactions committed, and the units they held (their mean: the batch size)
        self.units = 0

    def here(self) -> Connection | None:
        """The open batch's connection if this is a writer thread (a nested unit runs inline on it)."""
        conn: Connection | None = getattr(self._here, "conn", None)
        return conn

    def submit(self, work: Work[R]) -> Future[R]:
        unit = _Unit(work)
        self._put(unit)
        return unit.future

    def _put(self, unit: _Unit) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's threads and queue are not its own
                self._queue, self._running, self._idle, self._busy = queue.SimpleQueue(), set(), 0, 0
                self._pid = os.getpid()
            self._queue.put(unit)
            if self._idle == 0 and len(self._running) < self.threads:
                self._start()

    def _start(self) -> None:
        thread = threading.Thread(target=self._loop, name="kasse-writer", daemon=True)
        self._running.add(thread)
        self._idle += 1  # counted idle until it takes its first unit
        thread.start()

    def run(self, work: Work[R]) -> R:
        """``work`` in a unit of its own, committed with its batch; its result, or what it raised.

        When no batch is running and none waits, the calling thread commits its unit itself (a batch of
        one): a lone client pays no hand-over to a writer thread; units arriving meanwhile queue."""
        conn = self.here()
        if conn is not None:
            with conn.begin_nested():
                return work(conn)
        with self._lock:
            alone = self._busy < self.threads and self._queue.empty() and self._pid == os.getpid()
            if alone:
                self._busy += 1
        if not alone:
            return self.submit(work).result()
        unit = _Unit(work)
        future: Future[R] = unit.future
        future.set_running_or_notify_cancel()
        try:
            self._commit([unit])
        finally:
            with self._lock:
                self._busy -= 1
        return future.result()

    def stop(self) -> None:
        """End the writer threads once the units queued before are done."""
        with self._lock:
            if self._pid != os.getpid():
                return
            running = list(self._running)
            for _ in running:
                self._queue.put(None)
        for thread in running:
            if thread.ident != threading.get_ident():
                thread.join(timeout=30)

    def _loop(self) -> None:
        me = threading.current_thread()
        try:
            self._serve()
        finally:  # stopped (or broken): units queued meanwhile get a writer of their own
            with self._lock:
                self._running.discard(me)
                self._idle -= 1
                if not self._running and not self._queue.empty():
                    self._start()

    def _take(self) -> _Unit | None:
        """The next unit (None: stop), waiting up to ``IDLE_S``; ``queue.Empty`` when none came."""
        try:
            unit = self._queue.get(timeout=IDLE_S)
        except queue.Empty:
            with self._lock:
                self._idle -= 1
            raise
        with self._lock:
            self._idle -= 1
            self._busy += 1
        return unit

    def _serve(self) -> None:
        while True:
            try:
                first = self._take()
            except queue.Empty:
                with self._lock:  # units are queued under the lock: none can slip in unseen
                    self._idle += 1
                    if self._queue.empty():
                        return
                continue
            batch = []
            unit: _Unit | None = first
            while unit is not None:
                if unit.retried or unit.future.set_running_or_notify_cancel():  # skip one its caller gave up on
                    batch.append(unit)
                if len(batch) >= self.max_batch:
                    break
                try:
                    unit = self._queue.get_nowait()
                except queue.Empty:
                    break
            try:
                if batch:
                    self._commit(batch)
            finally:
                with self._lock:
                    self._idle += 1
                    self._busy -= 1
            if unit is None:  # stopped
                return

    def _commit(self, batch: list[_Unit]) -> None:
        again: list[_Unit] = []
        try:
            with self.db.transaction() as conn:
                self._here.conn = conn
                try:
                    done = self._run(conn, batch, again)
                finally:
                    self._here.conn = None
        except BaseException as exc:  # the commit (or a rollback) failed: none of the batch is acknowledged
            if len(batch) == 1 and _retry(batch[0], exc):
                again.append(batch[0])
            for unit in batch:
                if not unit.future.done() and unit not in again:
                    unit.future.set_exception(exc)
            self._queue_again(again)
            if not isinstance(exc, Exception):
                raise
            return
        self.batches += 1
        self.units += len(batch)
        for unit, result in done:
            unit.future.set_result(result)
        self._queue_again(again)

    def _queue_again(self, units: list[_Unit]) -> None:
        for unit in units:
            self._put(unit)

    @staticmethod
    def _run(conn: Connection, batch: list[_Unit], again: list[_Unit]) -> list[tuple[_Unit, Any]]:
        """Each unit of the batch in its savepoint; those that returned, with their results (``again``:
        those a deadlock chose as its victim, to run once more in a later batch)."""
        if len(batch) == 1:  # its own transaction: what it raises rolls it back
            return [(batch[0], batch[0].work(conn))]
        done = []
        for unit in batch:
            # Plain statements (SQLAlchemy's begin_nested costs twice as much CPU): a unit's own savepoint.
            conn.exec_driver_sql("SAVEPOINT kasse_unit")
            try:
                result = unit.work(conn)
            except Exception as exc:
                conn.exec_driver_sql("ROLLBACK TO SAVEPOINT kasse_unit")
                if _retry(unit, exc):
                    again.append(unit)
                else:
                    unit.future.set_exception(exc)  # it failed alone and left nothing behind
            else:
                done.append((unit, result))
            conn.exec_driver_sql("RELEASE SAVEPOINT kasse_unit")
        return done


# PostgreSQL's deadlock and serialization failures: the victim's work is undone and may simply run again.
# Batches of different writers (threads, processes) can meet in a deadlock that one-unit transactions
# could not (two units' keys locked in opposite orders); the unit it picks runs once more.
_RETRIED_SQLSTATES = frozenset({"40P01", "40001"})


def _retry(unit: _Unit, exc: BaseException) -> bool:
    """Whether ``unit`` runs again (once) after ``exc``."""
    if unit.retried or getattr(getattr(exc, "orig", None), "sqlstate", None) not in _RETRIED_SQLSTATES:
        return False
    unit.retried = True
    return True
