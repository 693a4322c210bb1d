"""Start and stop the servers under test: `kasse serve`, and the baseline apps on the same uvicorn settings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("KASSE_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = "kasse_bench"
LOGS = Path(tempfile.gettempdir()) / "kasse-bench-logs"  # each server's output, this run's


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_url(db: str = PG_DB) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db


def recreate_pg_database() -> str:
    """Drop and create the dedicated `kasse_bench` database; returns its URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')
    return pg_url()


def analyze(database_url: str) -> None:
    """PostgreSQL: ANALYZE after a bulk seeding, as autovacuum would (the local cluster may run with
    autovacuum off; without statistics the planner can pick a wrong index for Kasse's hot statements)."""
    if database_url.startswith("sqlite"):
        return
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def fresh_database(kind: str) -> str:
    """A new empty database of ``kind`` ("sqlite" or "postgresql"): its URL."""
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='kasse-bench-')}/bench.db"
    return recreate_pg_database()


def proc_status(pid: int, key: str) -> int | None:
    """A memory figure from /proc/PID/status in bytes (VmRSS now, VmHWM peak)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def tree(pid: int) -> list[int]:
    """The process and its live descendants (`kasse serve` with several processes: uvicorn's
    supervisor and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))  # ppid (field 4)
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system, every thread) the process and its live descendants have used,
    from /proc/PID/stat."""
    total = 0
    for member in tree(pid):
        fields = _stat(member)
        if fields is None:
            if member == pid:
                return None
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def processes() -> int:
    """How many HTTP processes `kasse serve` starts by default: one per core (KASSE_PROCESSES overrides)."""
    return int(os.environ.get("KASSE_PROCESSES") or os.cpu_count() or 1)


@dataclass
class Server:
    """A server subprocess on a free loopback port; ``start()`` waits for GET /healthz to answer 200."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    time_to_healthy_s: float | None = None
    log: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> Server:
        env = {**os.environ, **self.env}
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = LOGS / f"{Path(argv[0]).name}-{argv[1] if len(argv) > 1 else ''}-{self.port}.log"
        begin = time.perf_counter()
        with self.log.open("wb") as out:  # kept for a failed scenario's post-mortem
            self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        while time.perf_counter() - begin < timeout_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {self.proc.returncode} before it was healthy")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    self.time_to_healthy_s = time.perf_counter() - begin
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{argv} not healthy after {timeout_s} s")

    def rss(self) -> int | None:
        """The largest resident set of its processes (the bar is per process)."""
        return self._largest("VmRSS")

    def peak_rss(self) -> int | None:
        return self._largest("VmHWM")

    def _largest(self, key: str) -> int | None:
        if not self.proc:
            return None
        figures = [f for f in (proc_status(pid, key) for pid in tree(self.proc.pid)) if f is not None]
        return max(figures) if figures else None

    def cpu_s(self) -> float | None:
        return cpu_s(self.proc.pid) if self.proc else None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def kasse(database_url: str, *, workers: bool = False) -> Server:
    """`kasse serve` exactly as users start it (its default processes, one per core; log level info)."""
    argv = [str(BIN / "kasse"), "serve", "--port", "{port}"]
    if not workers:
        argv.append("--no-workers")
    return Server(argv, env={"KASSE_DATABASE_URL": database_url, "KASSE_ADMIN_TOKEN": "adm_bench"})


def receiver() -> Server:
    """The webhook receiver (bench/receiver.py): answers every POST with 200 and counts deliveries."""
    return Server([str(BIN / "python"), "-m", "bench.receiver", "{port}"])


def receiver_stats(srv: Server) -> dict[str, Any]:
    answer = httpx.get(f"{srv.base}/stats", timeout=10)
    answer.raise_for_status()
    data: dict[str, Any] = answer.json()
    return data


def uvicorn_app(app: str) -> Server:
    """A baseline app on the uvicorn settings `kasse serve` uses: as many worker processes as it
    starts (one per core), log level info (access log on)."""
    argv = [str(BIN / "python"), "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", "{port}"]
    workers = ["--workers", str(processes())] if processes() > 1 else []
    return Server([*argv, *workers, "--log-level", "info", "--timeout-graceful-shutdown", "3"])
