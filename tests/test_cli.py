"""The `kasse` command: in-process through Typer's runner, and `serve` / `worker` as real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from kasse.cli.lifecycle import render
from kasse.cli.main import app
from kasse.config import Settings, default_processes
from kasse.dialects.registry import hooks
from kasse.domain.models import Method
from kasse.domain.states import PaymentState
from kasse.engine import payments
from kasse.engine.merchants import SANDBOX
from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from tests.conftest import _free_port

KASSE = str(Path(sys.executable).with_name("kasse"))
runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_merchant_create_json_prints_every_credential(db_url: str) -> None:
    invoke("migrate", "--database", db_url)  # only serve, worker and migrate make a database
    creds = json.loads(invoke("merchant", "create", "--name", "Shop A", "--json", "--database", db_url))
    assert creds["id"].startswith("mer_") and creds["name"] == "Shop A"
    assert creds["secret_key"].startswith("sk_test_") and creds["publishable_key"].startswith("pk_test_")
    assert set(creds) == {
        "id",
        "name",
        "secret_key",
        "publishable_key",
        "multisafepay",
        "secuconnect",
        "payone",
        "klarna",
    }
    assert set(creds["multisafepay"]) == {"api_key"}
    assert set(creds["secuconnect"]) == {"client_id", "client_secret"}
    assert set(creds["payone"]) == {"mid", "aid", "portalid", "key"}
    assert set(creds["klarna"]) == {"partner_account_id", "api_key"}
    again = json.loads(invoke("merchant", "create", "--name", "Shop B", "--json", "--database", db_url))
    assert again["id"] != creds["id"] and again["secret_key"] != creds["secret_key"]


def test_clock_advance_fires_due_timers_and_payments_list_shows_the_result(db_url: str) -> None:
    invoke("migrate", "--database", db_url)  # also creates the sandbox merchant
    kasse = Kasse(Database(db_url), hooks=hooks())
    with kasse.unit(merchant_id=SANDBOX.id) as tx:
        created = payments.create_payment(
            tx, payments.CreatePayment(origin="native", amount_minor=1234, currency="EUR", method=Method.SOFORT)
        )
    out = invoke("clock", "advance", "1d1h", "--merchant", SANDBOX.id, "--database", db_url)
    assert "1 timer(s) fired" in out and "payment_expiry" in out and created.id in out
    listed = json.loads(invoke("payments", "list", "--json", "--database", db_url))
    assert [(p["id"], p["status"], p["amount"]) for p in listed] == [(created.id, "expired", 1234)]
    assert json.loads(invoke("payments", "list", "--json", "--status", "succeeded", "--database", db_url)) == []


def test_clock_advance_refuses_a_bad_duration_and_an_unknown_merchant(db_url: str) -> None:
    bad = runner.invoke(app, ["clock", "advance", "soon", "--database", db_url])
    assert bad.exit_code == 2 and "invalid duration" in bad.output
    invoke("migrate", "--database", db_url)
    unknown = runner.invoke(app, ["clock", "advance", "1h", "--merchant", "mer_nobody", "--database", db_url])
    assert unknown.exit_code == 2 and "No such merchant" in unknown.output


def test_lifecycle_doc_is_generated_from_the_tables() -> None:
    doc = Path(__file__).parents[1] / "docs" / "lifecycle.md"
    assert doc.read_text() == render(), "docs/lifecycle.md is stale: run `kasse docs lifecycle > docs/lifecycle.md`"


@pytest.fixture
def process_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASSE_")}
    env["KASSE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'proc.db'}"
    return env


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


@pytest.fixture
def served(process_env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    proc = subprocess.Popen(
        [KASSE, "serve", "--port", str(port)], env={**process_env, "COLUMNS": "200", "KASSE_ADMIN_TOKEN": "adm_fixed"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        raise AssertionError(_stop(proc))
    yield base, proc
    if proc.poll() is None:
        _stop(proc)


def test_serve_prints_front_doors_and_sandbox_credentials_and_serves_the_api(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    base, proc = served
    r = httpx.post(f"{base}/_admin/merchants", json={"name": "Via HTTP"}, headers={"Authorization": "Bearer adm_fixed"})
    assert r.status_code == 201 and r.json()["secret_key"].startswith("sk_test_")
    auth = {"Authorization": f"Bearer {SANDBOX.secret_key}"}
    created = httpx.post(
        f"{base}/api/v1/payments", headers=auth,
        json={"amount": 500, "currency": "EUR", "method": "sofort", "return_url": "https://shop.example/r"},
    )  # fmt: skip
    assert created.json()["next_action"]["redirect_url"].startswith(f"{base}/pay/")
    out = _stop(proc)
    for text in (f"{base}/api/v1", f"{base}/api/docs", f"{base}/dashboard", f"{base}/stripe/v1",
                 f"{base}/multisafepay/v1/", f"{base}/_sandbox", f"{base}/metrics",
                 SANDBOX.secret_key, SANDBOX.payone_key, SANDBOX.msp_api_key, "adm_fixed"):  # fmt: skip
        assert text in out, f"{text!r} not printed at start:\n{out}"


def test_worker_fires_timers_that_fall_due_on_a_live_clock(process_env: dict[str, str]) -> None:
    url = process_env["KASSE_DATABASE_URL"]
    subprocess.run([KASSE, "migrate"], env=process_env, check=True, capture_output=True)
    kasse = Kasse(Database(url), hooks=hooks())
    with kasse.unit(merchant_id=SANDBOX.id) as tx:
        created = payments.create_payment(
            tx, payments.CreatePayment(origin="native", amount_minor=100, currency="EUR", method=Method.SOFORT)
        )
        # Jump the live clock past the deadline without firing anything: that is the worker's job.
        offset = timedelta(days=1, minutes=1) // timedelta(microseconds=1)
        tx.store.set_clock(merchant_id=SANDBOX.id, offset_us=offset, frozen_at=None)
    proc = subprocess.Popen(
        [KASSE, "worker", "--interval", "0.1"], env=process_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        status = PaymentState.REQUIRES_ACTION
        while time.monotonic() < deadline and status is PaymentState.REQUIRES_ACTION:
            time.sleep(0.1)
            with kasse.read() as store:
                found = store.get_payment(merchant_id=SANDBOX.id, payment_id=created.id)
            assert found is not None
            status = found.status
    finally:
        out = _stop(proc)
    assert status is PaymentState.EXPIRED, out


def test_events_list_and_resend_deliver_to_a_real_receiver(db_url: str) -> None:
    from kasse.engine import webhooks
    from tests.test_webhooks import Receiver

    invoke("migrate", "--database", db_url)
    kasse = Kasse(Database(db_url), hooks=hooks())
    receiver = Receiver()
    try:
        with kasse.unit(merchant_id=SANDBOX.id) as tx:
            endpoint = webhooks.create_endpoint(
                tx, url=receiver.url, enabled_events=["*"], description=None, dialect="native"
            )
        receiver.secret = endpoint.secret
        with kasse.unit(merchant_id=SANDBOX.id) as tx:
            payments.create_payment(
                tx, payments.CreatePayment(origin="native", amount_minor=100, currency="EUR", method=Method.SOFORT)
            )
        listed = invoke("events", "list", "--database", db_url)
        assert "payment.created" in listed and "pending(0)" in listed
        with kasse.read() as store:
            (event,) = store.list_events(merchant_id=SANDBOX.id, limit=10).items
        out = invoke("events", "resend", event.id, "--database", db_url)
        assert "200" in out
        assert receiver.types() == ["payment.created"]
        assert "succeeded(1)" in invoke("events", "list", "--database", db_url)
    finally:
        receiver.close()


def _children(pid: int) -> list[str]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid):  # the parent pid, after the state
            found.append(stat.parent.name)
    return found


def test_serve_with_two_processes_shares_one_sqlite_database_and_one_admin_token(
    process_env: dict[str, str],
) -> None:
    """`kasse serve --processes 2`: both HTTP processes write the same SQLite file (queued on its writer
    lock), honour the admin token the parent generated and printed, and idempotency holds across them."""
    port = _free_port()
    proc = subprocess.Popen(
        [KASSE, "serve", "--port", str(port), "--processes", "2", "--no-workers"],
        env={**process_env, "COLUMNS": "200"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        assert proc.stdout is not None
        token = ""
        for line in proc.stdout:  # the banner comes before uvicorn starts
            if "admin token" in line:
                token = next(word for word in line.split() if word.startswith("adm_"))
                break
        assert token, "no admin token printed"
        deadline = time.monotonic() + 30
        children: list[str] = []
        while time.monotonic() < deadline:
            children = _children(proc.pid)
            try:
                if len(children) >= 2 and httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError(_stop(proc))
        assert len(children) >= 2, children

        auth = {"Authorization": f"Bearer {SANDBOX.secret_key}"}
        body = {"amount": 500, "currency": "EUR", "method": "sofort", "return_url": "https://shop.example/r"}

        def create(i: int) -> tuple[int, str]:
            # A fresh connection per request, so the kernel spreads them over both processes; every
            # key is sent twice, the second time possibly to the other process.
            headers = {**auth, "Idempotency-Key": f"two-procs-{i // 2}"}
            r = httpx.post(f"{base}/api/v1/payments", json=body, headers=headers, timeout=30)
            return r.status_code, r.json()["id"]

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(create, range(200)))
        assert {status for status, _ in results} == {201}
        ids = [pid for _, pid in results]
        assert all(ids[i] == ids[i + 1] for i in range(0, 200, 2)), "a replayed key created a second payment"
        for _ in range(8):  # new connections: whichever process answers knows the printed token
            r = httpx.post(
                f"{base}/_admin/merchants", json={"name": "Shop"}, headers={"Authorization": f"Bearer {token}"}
            )
            assert r.status_code == 201, r.text
    finally:
        _stop(proc)
    kasse = Kasse(Database(process_env["KASSE_DATABASE_URL"]), hooks=hooks())
    with kasse.read() as store:
        page = store.list_payments(merchant_id=SANDBOX.id, limit=1000)
    assert len(page.items) == 100


def test_serve_uses_every_core_by_default_and_keeps_idle_connections_as_configured(
    process_env: dict[str, str],
) -> None:
    """No --processes: one process per core (the banner says how many); --keep-alive reaches uvicorn;
    the queued access log of forked workers reaches stdout, flushed by the time they end."""
    env = {k: v for k, v in process_env.items() if k != "KASSE_PROCESSES"}
    cores = default_processes()
    port = _free_port()
    proc = subprocess.Popen(
        [KASSE, "serve", "--port", str(port), "--keep-alive", "1"], env={**env, "COLUMNS": "200"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200 and len(_children(proc.pid)) >= min(cores, 2):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError(_stop(proc))
        if cores > 1:
            assert len(_children(proc.pid)) == cores
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b" 200 " in conn.recv(4096)
            began = time.monotonic()
            assert conn.recv(4096) == b""  # closed by the server, idle for --keep-alive seconds
            assert 0.5 < time.monotonic() - began < 5
        r = httpx.get(f"{base}/api/v1/payments", headers={"Authorization": f"Bearer {SANDBOX.secret_key}"})
        assert r.status_code == 200
    finally:
        out = _stop(proc)
    noun = "processes" if cores > 1 else "process"
    assert f", {cores} {noun})" in out.splitlines()[0], out.splitlines()[0]
    assert '"GET /api/v1/payments HTTP/1.1" 200' in out


def test_processes_and_keep_alive_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KASSE_PROCESSES", raising=False)
    monkeypatch.delenv("KASSE_KEEP_ALIVE_S", raising=False)
    assert Settings.from_env().processes == default_processes() == min(len(os.sched_getaffinity(0)), 64)
    assert Settings.from_env().keep_alive_s == 75
    monkeypatch.setenv("KASSE_PROCESSES", "1")
    monkeypatch.setenv("KASSE_KEEP_ALIVE_S", "30")
    assert (Settings.from_env().processes, Settings.from_env().keep_alive_s) == (1, 30)
    assert Settings.from_env(processes=3).processes == 3
