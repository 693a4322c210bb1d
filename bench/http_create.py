"""Throughput of the native API against a baseline measured in the same run.

Starts `kasse serve` in a subprocess (SQLite in a temp dir by default, or --database), drives it from
threads with httpx for a bounded time per phase, prints requests/s, p50/p99 and the ratio to baseline.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

import httpx

AUTH = {"Authorization": "Bearer sk_test_kasse_sandbox"}
BODY = {"amount": 1000, "currency": "EUR", "method": "sofort", "country": "DE", "return_url": "https://shop.example/r"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_phase(
    base: str, seconds: float, concurrency: int, step: Callable[[httpx.Client], int]
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    count = [0]

    def worker() -> None:
        with httpx.Client(base_url=base, headers=AUTH, timeout=30) as client:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                n = step(client)
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed / n)
                    count[0] += n

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    begin = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count[0] / (time.perf_counter() - begin), latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    database = args.database or f"sqlite:///{tmp}/bench.db"
    port = free_port()
    env = {**os.environ, "KASSE_DATABASE_URL": database, "KASSE_PORT": str(port)}
    kasse = os.path.join(os.path.dirname(sys.executable), "kasse")
    proc = subprocess.Popen([kasse, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)

        def health(c: httpx.Client) -> int:
            c.get("/healthz").raise_for_status()
            return 1

        def create(c: httpx.Client) -> int:
            c.post("/api/v1/payments", json=BODY).raise_for_status()
            return 1

        def cycle(c: httpx.Client) -> int:
            pid = c.post("/api/v1/payments", json=BODY).json()["id"]
            c.post(f"/_sandbox/payments/{pid}/approve").raise_for_status()
            c.get(f"/api/v1/payments/{pid}").raise_for_status()
            return 3

        print(f"database: {database.split('@')[-1]}  concurrency: {args.concurrency}  {args.seconds}s per phase")
        baseline = None
        for name, step in (
            ("GET /healthz (baseline)", health),
            ("POST /api/v1/payments", create),
            ("create+approve+get (per request)", cycle),
        ):
            rate, lat = run_phase(base, args.seconds, args.concurrency, step)
            baseline = baseline or rate
            q = statistics.quantiles(lat, n=100)
            print(
                f"{name:36s} {rate:8.0f} req/s  p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms  "
                f"ratio {rate / baseline:5.2f}"
            )
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
