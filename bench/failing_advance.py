"""One clock advance over many failing webhook deliveries (issue 10, defect 4).

N native Sofort payments (created and approved through the API) with a webhook endpoint for every
event on a closed loopback port, then one ``POST /_sandbox/clock/advance`` of 36 days: every attempt of
every delivery fails at once (connection refused) and is retried on the default schedule until the
endpoint is disabled. Prints the attempts made and the wall time of the advance request. In-process
(``TestClient``, workers off), on a fresh SQLite file or a PostgreSQL database you name.

    .venv/bin/python -m bench.failing_advance                      # SQLite, 50 payments
    .venv/bin/python -m bench.failing_advance --database postgresql://postgres@127.0.0.1:5432/kasse_bench_adv
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import time
from dataclasses import fields
from pathlib import Path

from fastapi.testclient import TestClient

from kasse.config import Settings
from kasse.engine.merchants import SANDBOX
from kasse.web.app import create_app

AUTH = {"Authorization": f"Bearer {SANDBOX.secret_key}"}
SOFORT = {"amount": 1000, "currency": "EUR", "method": "sofort", "return_url": "https://shop.example/r"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns: connections are refused


def run(database_url: str, payments: int, days: float) -> dict[str, float]:
    extra = {"advance_sync_s": 3600.0} if "advance_sync_s" in {f.name for f in fields(Settings)} else {}
    settings = Settings(database_url=database_url, run_workers=False, **extra)  # type: ignore[arg-type]
    with TestClient(create_app(settings)) as client:
        client.post("/_sandbox/reset", headers=AUTH)
        url = f"http://127.0.0.1:{closed_port()}/hooks"
        r = client.post("/api/v1/webhook_endpoints", json={"url": url}, headers=AUTH)
        assert r.status_code == 201, r.text
        for _ in range(payments):
            pid = client.post("/api/v1/payments", json=SOFORT, headers=AUTH).json()["id"]
            client.post(f"/_sandbox/payments/{pid}/approve", headers=AUTH)
        started = time.perf_counter()
        r = client.post("/_sandbox/clock/advance", json={"seconds": days * 86_400}, headers=AUTH)
        seconds = time.perf_counter() - started
        assert r.status_code == 200, r.text
        return {"payments": payments, "attempts": r.json()["delivery_attempts"], "seconds": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.failing_advance", description=__doc__)
    parser.add_argument("--database", help="a PostgreSQL URL (default: a new SQLite file)")
    parser.add_argument("--payments", type=int, default=50)
    parser.add_argument("--days", type=float, default=36)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'kasse.db'}"
        print(json.dumps(run(url, args.payments, args.days)))


if __name__ == "__main__":
    main()
