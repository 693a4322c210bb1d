"""Group commit: one writer thread per database per process commits concurrent units of work together.

A unit of work handed to the writer (a function of the transaction's connection) waits in a queue with a
future. The writer takes the first waiting unit and whatever else is queued (up to ``max_batch``), opens
one write transaction, runs each unit in a savepoint of its own — released when it returns, rolled back
when it raises, so a failing unit fails alone and leaves nothing behind — and commits once. Only then are
the units' futures resolved: an answer is given after its change is committed, and a commit that fails
fails every unit of the batch, none acknowledged. The way databases amortise their log's flush: one
commit (one fsync, one round trip) for many units, and on SQLite one turn of its single writer.

A batch of one runs without a savepoint (the transaction is the unit's own). A unit running on the
writer thread that asks for another runs it inline, in a savepoint of the batch's transaction.
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
    __slots__ = ("future", "work")

    def __init__(self, work: Work[Any]) -> None:
        self.work = work
        self.future: Future[Any] = Future()


class Writer:
    """The database's writer: ``submit`` hands it a unit and returns the future of its result."""

    def __init__(self, db: Database, *, max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError(f"a batch holds at least one unit, not {max_batch}")
        self.db = db
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Unit | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._conn: Connection | None = None  # the batch's, while the writer thread runs one
        self.batches = 0  # transactions committed, and the units they held (their mean: the batch size)
        self.units = 0

    def here(self) -> Connection | None:
        """The open batch's connection if this is the writer thread (a nested unit runs inline on it)."""
        thread = self._thread
        return self._conn if thread is not None and thread.ident == threading.get_ident() else None

    def submit(self, work: Work[R]) -> Future[R]:
        unit = _Unit(work)
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's thread and queue are not its own
                self._queue, self._thread, self._pid = queue.SimpleQueue(), None, os.getpid()
            self._queue.put(unit)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="kasse-writer", daemon=True)
                self._thread.start()
        return unit.future

    def run(self, work: Work[R]) -> R:
        """``work`` in a unit of its own, committed with its batch; its result, or what it raised."""
        conn = self.here()
        if conn is not None:
            with conn.begin_nested():
                return work(conn)
        return self.submit(work).result()

    def stop(self) -> None:
        """End the writer thread once the units queued before are done."""
        with self._lock:
            thread = self._thread
            if thread is None or self._pid != os.getpid():
                return
            self._queue.put(None)
        if thread.ident != threading.get_ident():
            thread.join(timeout=30)

    def _loop(self) -> None:
        try:
            self._serve()
        finally:
            with self._lock:
                if self._thread is not None and self._thread.ident == threading.get_ident():
                    self._thread = None

    def _serve(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_S)
            except queue.Empty:
                with self._lock:  # units are queued under the lock: none can slip in unseen
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = []
            unit: _Unit | None = first
            while unit is not None:
                if unit.future.set_running_or_notify_cancel():  # skip a unit its caller gave up on
                    batch.append(unit)
                if len(batch) >= self.max_batch:
                    break
                try:
                    unit = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._commit(batch)
            if unit is None:  # stopped
                return

    def _commit(self, batch: list[_Unit]) -> None:
        try:
            with self.db.transaction() as conn:
                self._conn = conn
                try:
                    done = self._run(conn, batch)
                finally:
                    self._conn = None
        except BaseException as exc:  # the commit (or a rollback) failed: none of the batch is acknowledged
            for unit in batch:
                if not unit.future.done():
                    unit.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        self.batches += 1
        self.units += len(batch)
        for unit, result in done:
            unit.future.set_result(result)

    @staticmethod
    def _run(conn: Connection, batch: list[_Unit]) -> list[tuple[_Unit, Any]]:
        """Each unit of the batch in its savepoint; those that returned, with their results."""
        if len(batch) == 1:  # its own transaction: what it raises rolls it back
            return [(batch[0], batch[0].work(conn))]
        done = []
        for unit in batch:
            savepoint = conn.begin_nested()
            try:
                result = unit.work(conn)
                savepoint.commit()
            except Exception as exc:
                if savepoint.is_active:
                    savepoint.rollback()
                unit.future.set_exception(exc)  # it failed alone and left nothing behind
            else:
                done.append((unit, result))
        return done
