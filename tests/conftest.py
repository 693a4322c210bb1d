"""Fixtures: both databases (SQLite in a temp dir, the local PostgreSQL), a test wall clock, the app,
and a live server for browser tests. PostgreSQL tests are never skipped: if it is down, they fail."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from playwright.sync_api import Browser, Playwright, sync_playwright

from kasse.config import Settings
from kasse.dialects.registry import hooks
from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
from kasse.engine.unit import Kasse
from kasse.storage import schema
from kasse.storage.db import Database, normalize_url
from kasse.web.app import create_app
from tests.helpers import FakeWall

# Property tests check behaviour, never speed (that is bench/'s job): no per-example deadline, so a busy
# machine cannot fail them.
hypothesis_settings.register_profile("kasse", deadline=None)
hypothesis_settings.load_profile("kasse")

PG_URL = os.environ.get("KASSE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/kasse_test")
SECRET = SANDBOX.secret_key
AUTH = {"Authorization": f"Bearer {SECRET}"}


def _ensure_pg_database(url: str) -> None:
    parsed = sa.engine.make_url(normalize_url(url))
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database})
        if exists.first() is None:
            conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[Database]:
    _ensure_pg_database(PG_URL)
    db = Database(PG_URL)
    db.migrate()
    yield db
    db.dispose()


def _wipe(db: Database) -> None:
    with db.transaction() as conn:
        if db.is_sqlite:
            for table in reversed(schema.metadata.sorted_tables):
                conn.execute(table.delete())
        else:
            names = ", ".join(t.name for t in schema.metadata.sorted_tables)
            conn.execute(sa.text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'kasse.db'}")
        db.migrate()
        yield db
        db.dispose()
    else:
        db = request.getfixturevalue("pg_database")
        _wipe(db)
        yield db


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'kasse.db'}")
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def wall() -> FakeWall:
    return FakeWall()


@pytest.fixture
def kasse(database: Database, wall: FakeWall) -> Kasse:
    k = Kasse(database, hooks=hooks(), wall=wall)
    ensure_sandbox_merchant(k)
    return k


@pytest.fixture
def merchant_id() -> str:
    return SANDBOX.id


def _app(k: Kasse, **settings: object) -> FastAPI:
    return create_app(Settings(database_url=k.db.url, run_workers=False, **settings), kasse=k)  # type: ignore[arg-type]


@pytest.fixture
def app(kasse: Kasse) -> FastAPI:
    return _app(kasse)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, app: FastAPI, port: int) -> None:
        self.app = app
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(sqlite_database: Database) -> Iterator[LiveServer]:
    """A real uvicorn on a free loopback port, SQLite, the real wall clock, workers running."""
    port = _free_port()
    k = Kasse(sqlite_database, hooks=hooks())
    ensure_sandbox_merchant(k)
    app = create_app(
        Settings(database_url=sqlite_database.url, port=port, run_workers=True, scheduler_interval_s=0.2), kasse=k
    )
    with LiveServer(app, port) as server:
        yield server


# --- browser tests: Debian's Chromium driven by Playwright, never a downloaded browser ----------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
