"""Several ``kasse worker`` processes on one PostgreSQL database: a few thousand events are each delivered,
never by two requests at once, and both workers share the work; a worker killed (SIGKILL) mid-batch loses
no event: its leased deliveries are sent again once the lease runs out (at least once).

A real receiver on a loopback port verifies every request with the ``standardwebhooks`` package and notes
when it arrived, when it was answered, and which worker process sent it (the owner of the client socket,
read from ``/proc``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from kasse.dialects.registry import hooks
from kasse.domain.models import Method
from kasse.engine import payments, webhooks
from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
from kasse.engine.unit import Kasse
from kasse.storage import schema
from kasse.storage.db import Database, normalize_url
from tests.conftest import PG_URL, _ensure_pg_database, _wipe

KASSE = str(Path(sys.executable).with_name("kasse"))
# A database of its own: other tests wipe the test database while these workers run. Named after it, so
# suites run side by side against different test databases never share it.
_PG = sa.engine.make_url(normalize_url(PG_URL))
WORKERS_URL = _PG.set(database=f"{_PG.database}_workers")
LEASE_S = 2.0  # the crash test waits this long for the dead worker's leases to run out


@dataclass(frozen=True, slots=True)
class Arrival:
    event_id: str
    started: float  # time.monotonic() when the request arrived
    finished: float  # ... and when its answer was written
    pid: int | None  # the worker process that sent it


def _socket_owner(client_port: int, server_port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the client end of the loopback connection client_port -> server_port."""
    inode = None
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local, remote = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
            if (local, remote) == (client_port, server_port):
                inode = fields[9]
                break
    if inode is None:
        return None
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


class Receiver:
    """Verifies each request's signature and answers 200; can hold the ``hold_at``-th request until released."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.pids: list[int] = []
        self.arrivals: list[Arrival] = []
        self.errors: list[str] = []
        self.hold_at: int | None = None
        self.delay_s = 0.0  # a slow receiver: every answer waits this long
        self.held = threading.Event()
        self.release = threading.Event()
        self.held_event_id: str | None = None
        self._count = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: each worker sends over one connection
            disable_nagle_algorithm = True  # else the body, written after the headers, waits ~40 ms for an ACK
            timeout = 30
            owner: int | None = None

            def do_POST(self) -> None:
                started = time.monotonic()
                length = int(self.headers["content-length"])
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: a server never hands this on
                    self.close_connection = True
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                event_id = headers.get("webhook-id", "")
                if self.owner is None:
                    self.owner = _socket_owner(self.client_address[1], receiver.port, receiver.pids)
                status = 200
                try:
                    assert receiver.secret is not None
                    payload = Webhook(receiver.secret).verify(body, headers)  # raises if the signature is wrong
                    assert payload["id"] == event_id, (payload["id"], event_id)
                except Exception as exc:
                    receiver.errors.append(f"{event_id}: {exc!r}")
                    status = 400
                with receiver._lock:
                    receiver._count += 1
                    hold = receiver._count == receiver.hold_at
                time.sleep(receiver.delay_s)
                if hold:
                    receiver.held_event_id = event_id
                    receiver.held.set()
                    receiver.release.wait(30)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                    self.wfile.flush()
                except OSError:  # the worker died while we held its request
                    self.close_connection = True
                with receiver._lock:
                    receiver.arrivals.append(Arrival(event_id, started, time.monotonic(), self.owner))

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # a listen backlog like real servers', not socketserver's 5

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def pg_kasse() -> Iterator[Kasse]:
    """A wiped, migrated <test database>_workers database with the sandbox merchant; the real wall clock."""
    url = WORKERS_URL.render_as_string(hide_password=False)
    _ensure_pg_database(url)
    db = Database(url)
    db.migrate()
    _wipe(db)
    kasse = Kasse(db, hooks=hooks())
    ensure_sandbox_merchant(kasse)
    yield kasse
    db.dispose()


def _prepare(kasse: Kasse, receiver: Receiver, n: int) -> float:
    """One endpoint for every event, then ``n`` payments (one ``payment.created`` delivery each); seconds taken."""
    with kasse.unit(merchant_id=SANDBOX.id) as tx:
        endpoint = webhooks.create_endpoint(
            tx, url=receiver.url, enabled_events=["*"], description=None, dialect="native"
        )
    receiver.secret = endpoint.secret
    started = time.monotonic()
    cmd = payments.CreatePayment(origin="native", amount_minor=100, currency="EUR", method=Method.SOFORT)
    for first in range(0, n, 250):
        with kasse.unit(merchant_id=SANDBOX.id) as tx:
            for _ in range(min(250, n - first)):
                payments.create_payment(tx, cmd)
    assert _statuses(kasse) == {"pending": n}
    return time.monotonic() - started


def _statuses(kasse: Kasse) -> dict[str, int]:
    t = schema.deliveries
    with kasse.db.transaction(write=False) as conn:
        rows = conn.execute(sa.select(t.c.status, sa.func.count()).group_by(t.c.status)).all()
    return {str(status): int(count) for status, count in rows}


def _count(kasse: Kasse, query: sa.Select[int]) -> int:
    with kasse.db.transaction(write=False) as conn:
        return int(conn.execute(query).scalar_one())


def _event_ids(kasse: Kasse) -> set[str]:
    with kasse.db.transaction(write=False) as conn:
        return set(conn.execute(sa.select(schema.events.c.id)).scalars())


class Workers:
    """``kasse worker`` processes on the workers database, logging to files; all stopped on exit."""

    def __init__(self, kasse: Kasse, receiver: Receiver, logs: Path) -> None:
        self.url = kasse.db.engine.url.render_as_string(hide_password=False)
        self.receiver = receiver
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KASSE_")}

    def start(self, lease_s: float = LEASE_S) -> subprocess.Popen[bytes]:
        log = self.logs / f"worker-{len(self.procs)}.log"
        with log.open("wb") as out:  # a file, not a pipe: nobody reads it while the worker runs
            proc = subprocess.Popen(
                [KASSE, "worker", "--database", self.url, "--interval", "0.05", "--lease-seconds", str(lease_s)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.procs.append(proc)
        self.receiver.pids.append(proc.pid)
        return proc

    def output(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.logs.glob("*.log"))
        )

    def wait_until_delivered(self, kasse: Kasse, n: int, *, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while (statuses := _statuses(kasse)).get("succeeded", 0) < n:
            dead = [p.pid for p in self.procs if p.returncode is None and p.poll() is not None]
            assert not dead, f"worker(s) {dead} exited: {statuses}\n{self.output()}"
            assert time.monotonic() < deadline, f"not delivered in {timeout_s} s: {statuses}\n{self.output()}"
            time.sleep(0.1)
        assert statuses == {"succeeded": n}, statuses

    def stop(self) -> list[int]:
        """SIGTERM every live worker (SIGKILL after 15 s); their exit codes."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = []
        for proc in self.procs:
            try:
                codes.append(proc.wait(timeout=15))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        return codes


def _overlaps(arrivals: list[Arrival]) -> list[tuple[Arrival, Arrival]]:
    """Pairs of requests for one event that were in progress at the same time."""
    by_event: dict[str, list[Arrival]] = defaultdict(list)
    for a in arrivals:
        by_event[a.event_id].append(a)
    found = []
    for same in by_event.values():
        same.sort(key=lambda a: a.started)
        found += [(a, b) for a, b in pairwise(same) if b.started < a.finished]
    return found


def test_two_workers_deliver_thousands_of_events_each_once_and_never_concurrently(
    pg_kasse: Kasse, receiver: Receiver, tmp_path: Path
) -> None:
    n = 3000
    created_s = _prepare(pg_kasse, receiver, n)
    workers = Workers(pg_kasse, receiver, tmp_path)
    started = time.monotonic()
    try:
        first, second = workers.start(), workers.start()
        workers.wait_until_delivered(pg_kasse, n, timeout_s=90)
        elapsed = time.monotonic() - started
    finally:
        codes = workers.stop()
    assert codes == [0, 0], workers.output()

    assert receiver.errors == []
    arrivals = list(receiver.arrivals)
    per_event = Counter(a.event_id for a in arrivals)
    assert set(per_event) == _event_ids(pg_kasse) and len(per_event) == n  # every event arrived
    duplicates = len(arrivals) - len(per_event)
    overlaps = _overlaps(arrivals)
    per_worker = Counter(a.pid for a in arrivals)
    sending_s = max(a.finished for a in arrivals) - min(a.started for a in arrivals)
    print(
        f"\n2 workers: {n} events created in {created_s:.1f} s; delivered in {elapsed:.1f} s from the workers' start "
        f"({sending_s:.1f} s first to last request, {n / sending_s:.0f} deliveries/s); "
        f"{duplicates} duplicates, {len(overlaps)} concurrent; per worker {dict(per_worker)}"
    )
    assert overlaps == []  # none sent twice at once ...
    assert duplicates == 0  # ... nor twice at all, with no crash
    assert _count(pg_kasse, sa.select(sa.func.count()).select_from(schema.delivery_attempts)) == n
    assert per_worker[first.pid] > 0 and per_worker[second.pid] > 0, per_worker  # both did a share
    assert per_worker[first.pid] + per_worker[second.pid] == n, per_worker


def test_a_worker_killed_mid_batch_loses_no_event(pg_kasse: Kasse, receiver: Receiver, tmp_path: Path) -> None:
    n = 1000
    created_s = _prepare(pg_kasse, receiver, n)
    # The 290th request waits, the 10th of a batch of 20: its worker is killed between sending and recording,
    # with the rest of the batch leased.
    receiver.hold_at = 290
    workers = Workers(pg_kasse, receiver, tmp_path)
    t = schema.deliveries
    try:
        doomed = workers.start()
        assert receiver.held.wait(60), workers.output()
        os.kill(doomed.pid, signal.SIGKILL)
        assert doomed.wait(timeout=10) == -signal.SIGKILL
        killed_at = time.monotonic()
        succeeded_at_kill = _statuses(pg_kasse).get("succeeded", 0)
        # Claimed by the dead worker and never recorded: leased and still pending.
        leased_query = sa.select(sa.func.count()).where(t.c.status == "pending", t.c.leased_until.is_not(None))
        leased_at_kill = _count(pg_kasse, leased_query)
        receiver.release.set()  # its answer goes nowhere
        replacement = workers.start()
        workers.wait_until_delivered(pg_kasse, n, timeout_s=60)
        recovered_s = time.monotonic() - killed_at
    finally:
        codes = workers.stop()
    assert codes == [-signal.SIGKILL, 0], workers.output()
    assert 0 < succeeded_at_kill < n and leased_at_kill >= 1, (succeeded_at_kill, leased_at_kill)

    assert receiver.errors == []
    arrivals = list(receiver.arrivals)
    per_event = Counter(a.event_id for a in arrivals)
    assert set(per_event) == _event_ids(pg_kasse) and len(per_event) == n  # no event lost
    duplicates = len(arrivals) - len(per_event)
    overlaps = _overlaps(arrivals)
    per_worker = Counter(a.pid for a in arrivals)
    print(
        f"\ncrash: {n} events created in {created_s:.1f} s; worker killed after {succeeded_at_kill} deliveries "
        f"with {leased_at_kill} leased; all delivered {recovered_s:.1f} s after the kill (lease {LEASE_S} s); "
        f"{duplicates} duplicate(s) {[e for e, c in per_event.items() if c > 1]}, {len(overlaps)} concurrent; "
        f"per worker {dict(per_worker)}"
    )
    assert overlaps == []
    # At least once: the request in flight at the kill was sent again, and nothing that was not leased.
    assert per_event[receiver.held_event_id or ""] == 2
    assert 1 <= duplicates <= leased_at_kill
    assert per_worker[replacement.pid] >= n - succeeded_at_kill


def test_a_batch_slower_than_its_lease_is_not_sent_twice(pg_kasse: Kasse, receiver: Receiver, tmp_path: Path) -> None:
    """A claimed batch of 20 at 0.1 s a request outlasts a 1 s lease: the second worker takes over what the
    first has not sent yet, and the first must then skip it (its lease is renewed, or lost, before each send)."""
    receiver.delay_s = 0.1
    n = 60
    _prepare(pg_kasse, receiver, n)
    workers = Workers(pg_kasse, receiver, tmp_path)
    try:
        workers.start(lease_s=1.0)
        workers.start(lease_s=1.0)
        workers.wait_until_delivered(pg_kasse, n, timeout_s=60)
    finally:
        codes = workers.stop()
    assert codes == [0, 0], workers.output()
    assert receiver.errors == []
    assert _overlaps(list(receiver.arrivals)) == []
    per_event = Counter(a.event_id for a in receiver.arrivals)
    assert set(per_event) == _event_ids(pg_kasse)
    assert sum(per_event.values()) - len(per_event) == 0, "an event was sent twice"
