"""Named locks held across many transactions (a merchant's clock while it is advanced).

Exclusive or shared: a clock advance holds its merchant's lock exclusively; the background loops
(any number of them, in any process) hold it shared for one pass. A waiting exclusive request goes
first: shared requests made while it waits fail, so a stream of passes cannot starve an advance.

PostgreSQL: a session advisory lock on a connection of its own, so every Kasse process sharing the
database sees it (the server drops it if the process dies; its lock manager queues the waiters).
SQLite: a readers-writer lock per name in this process, and an ``flock`` of a file beside the database
for other processes on the same file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text

__all__ = ["NamedLocks"]

_POLL_S = 0.01


def _key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class _ReadersWriter:
    """Shared or exclusive, the waiting writer first."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire(self, *, shared: bool, wait_s: float) -> bool:
        with self._cond:
            if shared:
                if not (self._cond.wait_for(self._free, wait_s) if wait_s > 0 else self._free()):
                    return False
                self._readers += 1
                return True
            self._writers_waiting += 1
            try:
                if not (self._cond.wait_for(self._idle, wait_s) if wait_s > 0 else self._idle()):
                    return False
            finally:
                self._writers_waiting -= 1
                self._cond.notify_all()
            self._writer = True
            return True

    def _free(self) -> bool:  # for a reader: no writer holds it or waits for it
        return not self._writer and not self._writers_waiting

    def _idle(self) -> bool:  # for a writer
        return not self._writer and not self._readers

    def release(self, *, shared: bool) -> None:
        with self._cond:
            if shared:
                self._readers -= 1
            else:
                self._writer = False
            self._cond.notify_all()


class NamedLocks:
    def __init__(self, engine: Engine, *, is_sqlite: bool, beside: Path | None) -> None:
        self._engine = engine
        self._is_sqlite = is_sqlite
        self._beside = beside  # the database file: lock files are named after it
        self._guard = threading.Lock()
        self._local: dict[str, _ReadersWriter] = {}

    @contextmanager
    def hold(self, name: str, *, wait_s: float = 0.0, shared: bool = False) -> Iterator[bool]:
        """Hold the lock ``name`` for the block, waiting up to ``wait_s`` (0: only try). Yields whether
        it is held: the block runs either way and must look."""
        hold = self._hold_sqlite if self._is_sqlite else self._hold_postgres
        with hold(name, wait_s, shared) as held:
            yield held

    @contextmanager
    def _hold_postgres(self, name: str, wait_s: float, shared: bool) -> Iterator[bool]:
        key, suffix = _key(name), "_shared" if shared else ""
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            held = _pg_wait(conn, key, suffix, wait_s) if wait_s > 0 else _pg_try(conn, key, suffix)
            try:
                yield held
            finally:
                if held:
                    conn.execute(text(f"SELECT pg_advisory_unlock{suffix}(:k)"), {"k": key})

    @contextmanager
    def _hold_sqlite(self, name: str, wait_s: float, shared: bool) -> Iterator[bool]:
        with self._guard:
            lock = self._local.setdefault(name, _ReadersWriter())
        deadline = time.monotonic() + wait_s
        if not lock.acquire(shared=shared, wait_s=wait_s):
            yield False
            return
        try:
            with self._hold_file(name, deadline, shared) as held:
                yield held
        finally:
            lock.release(shared=shared)

    @contextmanager
    def _hold_file(self, name: str, deadline: float, shared: bool) -> Iterator[bool]:
        if self._beside is None:  # an in-memory database: one process
            yield True
            return
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        fd = os.open(self._beside.with_name(f"{self._beside.name}-lock-{digest}"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            held = _flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX, deadline)
            try:
                yield held
            finally:
                if held:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _pg_try(conn: Connection, key: int, suffix: str) -> bool:
    return bool(conn.execute(text(f"SELECT pg_try_advisory_lock{suffix}(:k)"), {"k": key}).scalar())


def _pg_wait(conn: Connection, key: int, suffix: str, wait_s: float) -> bool:
    conn.execute(text(f"SET lock_timeout = {int(wait_s * 1000)}"))
    try:
        conn.execute(text(f"SELECT pg_advisory_lock{suffix}(:k)"), {"k": key})
        return True
    except Exception as exc:
        if getattr(getattr(exc, "orig", None), "sqlstate", None) != "55P03":  # lock_timeout: not held
            raise
        return False
    finally:
        conn.execute(text("RESET lock_timeout"))


def _flock(fd: int, mode: int, deadline: float) -> bool:
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S)
