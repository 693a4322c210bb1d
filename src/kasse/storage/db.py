"""Database access: one engine per process, short transactions, migrations applied on start."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from kasse.storage.locks import NamedLocks
from kasse.storage.writer import Writer

__all__ = ["Database", "normalize_url"]

MIGRATIONS = Path(__file__).with_name("migrations")

# Writer threads of a group-committing engine on PostgreSQL (kasse.storage.writer): enough that one
# batch's Python work overlaps the next one's round trips, few enough that batches still form.
PG_WRITER_THREADS = 4

# Any value, but fixed: every Kasse process migrating one PostgreSQL database takes this lock first.
_MIGRATION_LOCK = 0x4B415353


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``postgres://`` URLs and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class _WriterLock:
    """SQLite's single writer, queued fairly instead of polled.

    Threads of this process queue on a lock; processes sharing the file queue on an ``flock`` of a
    lock file beside it (the kernel wakes the next waiter at once, where SQLite's busy handler sleeps
    1, 2, 5, 10 … ms and let write latency jump to seconds under concurrency). Re-entrant: only the
    outermost acquisition takes and releases the file lock."""

    def __init__(self, path: Path | None) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._path = path
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked child needs its own open file
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        if self._depth == 0:
            try:
                fd = self._file()
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


class Database:
    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL", echo: bool = False) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if parsed.database:
                Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        else:
            # No pre-ping: it is a round trip on every checkout; recycling handles idle server timeouts.
            kwargs.update(pool_size=8, max_overflow=16, pool_recycle=1800)
        self.engine: Engine = create_engine(self.url, **kwargs)
        lock_file = None
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            lock_file = Path(parsed.database).expanduser().resolve().with_name(Path(parsed.database).name + "-writer")
        self._write_lock = _WriterLock(lock_file)
        self._here = threading.local()  # .writing: this thread's open write transactions
        self._writer_made = threading.Lock()
        self.writer: Writer | None = None  # the group-commit writer, made by the first engine that wants one
        db_file = None if lock_file is None else lock_file.with_name(Path(str(parsed.database)).name)
        self.locks = NamedLocks(self.engine, is_sqlite=self.is_sqlite, beside=db_file)
        if self.is_sqlite:
            self._configure_sqlite(sqlite_synchronous)

    def _configure_sqlite(self, synchronous: str) -> None:
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"invalid SQLite synchronous setting {synchronous!r}")

        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, begin transactions, so writers can BEGIN IMMEDIATE
            # and never deadlock upgrading a read lock.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("kasse_write", True) else "BEGIN")

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises.

        SQLite has one writer at a time. Writers (of this process and of other Kasse processes on the
        same file) queue on a lock before BEGIN IMMEDIATE instead of polling SQLite's busy handler;
        other programs writing the file still meet the busy handler."""
        with self._write_lock if (write and self.is_sqlite) else nullcontext(), self.engine.connect() as conn:
            conn.info["kasse_write"] = write
            depth = getattr(self._here, "writing", 0)
            self._here.writing = depth + write
            try:
                with conn.begin():
                    yield conn
            finally:
                self._here.writing = depth

    def group_writer(self, *, max_batch: int = 64) -> Writer:
        """The database's one writer of this process (made on first use; ``max_batch`` then)."""
        if self.writer is None:
            with self._writer_made:
                if self.writer is None:
                    threads = 1 if self.is_sqlite else PG_WRITER_THREADS
                    self.writer = Writer(self, max_batch=max_batch, threads=threads)
        return self.writer

    def writing_here(self) -> bool:
        """Whether this thread has a write transaction open (a unit of work asked for inside one runs
        beside it, as before group commit, instead of waiting on the writer)."""
        return bool(getattr(self._here, "writing", 0))

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent; safe with concurrent processes)."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
                conn.commit()
            try:
                cfg = Config()
                cfg.set_main_option("script_location", str(MIGRATIONS))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                if not self.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                    conn.commit()

    def dispose(self) -> None:
        if self.writer is not None:
            self.writer.stop()
        self.engine.dispose()
