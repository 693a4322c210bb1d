"""Drive one endpoint with wrk and a Lua script from bench/wrk; parse the JSON line its done() prints."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

WRK_DIR = Path(__file__).resolve().parent / "wrk"


@dataclass
class Load:
    """Throughput and latency of one measured run (latencies in milliseconds)."""

    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    errors: int
    seconds: float
    cpu_us_per_request: float | None = None  # the server's CPU (every thread) per request, when measured

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrk_binary() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: run `make bench` (scripts/bench.sh installs Debian's wrk)")
    return path


def wrk(
    url: str, script: str, *, concurrency: int, seconds: float, args: tuple[str, ...] = (), server: Any = None
) -> Load:
    """One wrk run: one load thread (the server keeps the other core), ``concurrency`` connections. With
    ``server`` (a ``bench.servers.Server``), also the CPU time it spent per request during the run."""
    argv = [wrk_binary(), "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "10s"]
    argv += ["-s", script, url]
    if args:
        argv += ["--", *args]
    cpu_before = server.cpu_s() if server is not None else None
    out = subprocess.run(argv, cwd=WRK_DIR, capture_output=True, text=True, timeout=seconds + 60, check=True)
    cpu_after = server.cpu_s() if server is not None else None
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")
    data = json.loads(line.removeprefix("WRKJSON "))
    secs = data["duration_us"] / 1e6
    lat = data["latency_us"]
    return Load(
        rps=data["requests"] / secs,
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        requests=data["requests"],
        errors=sum(data["errors"].values()),
        seconds=secs,
        cpu_us_per_request=(
            (cpu_after - cpu_before) * 1e6 / data["requests"]
            if cpu_before is not None and cpu_after is not None and data["requests"]
            else None
        ),
    )
