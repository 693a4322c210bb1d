"""A new user's first hour (issue 15): the CLI finds the server's data and never makes an empty database,
a busy port is one clear line, the banner names only what is mounted and cuts nothing, typos in filters
are errors, errors say why, a clock advance says what each timer did, the API reference works offline."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kasse import __version__
from kasse.cli.banner import banner_lines
from kasse.cli.main import app as cli
from kasse.config import Settings, database_url, default_database_path
from kasse.dialects.registry import DIALECTS
from kasse.engine.merchants import SANDBOX
from tests.conftest import AUTH

KASSE = str(Path(sys.executable).with_name("kasse"))
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str | None]:
    """An environment whose default data directory is empty: XDG_DATA_HOME in a temp dir."""
    return {"XDG_DATA_HOME": str(tmp_path / "data"), "KASSE_DATABASE_URL": None, "COLUMNS": "80"}


def run(env: Mapping[str, str | None], *args: str) -> Any:
    return runner.invoke(cli, list(args), env=dict(env))


# --- point 2: one place for the data, never a new empty database -------------------------------------


def test_server_and_cli_resolve_one_default_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("KASSE_DATABASE_URL", raising=False)
    assert default_database_path() == tmp_path / "kasse" / "kasse.db"
    assert database_url() == f"sqlite:///{tmp_path}/kasse/kasse.db" == Settings.from_env().database_url
    monkeypatch.setenv("KASSE_DATABASE_URL", "postgresql://u@h/db")
    assert Settings.from_env().database_url == "postgresql://u@h/db" == database_url()


def test_a_command_on_a_missing_database_says_so_and_creates_nothing(home: dict[str, str | None]) -> None:
    path = Path(str(home["XDG_DATA_HOME"])) / "kasse" / "kasse.db"
    for args in (["payments", "list"], ["merchant", "create", "--name", "Shop"], ["clock", "show"], ["events", "list"]):
        result = run(home, *args)
        assert result.exit_code == 1, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and str(path) in lines[0] and "kasse serve" in lines[0], result.output
    assert not path.exists() and not path.parent.exists()
    assert run(home, "migrate").exit_code == 0  # migrate (like serve and worker) may create it
    assert path.exists()
    assert run(home, "payments", "list").exit_code == 0


# --- point 3: a busy port -------------------------------------------------------------------------------


def test_serve_on_a_busy_port_is_one_line_and_no_banner(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "COLUMNS": "80"}
        env.pop("KASSE_DATABASE_URL", None)
        proc = subprocess.run(
            [KASSE, "serve", "--port", str(port)], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    assert proc.returncode != 0
    assert proc.stdout == "", proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"Port {port}" in lines[0] and "in use" in lines[0], proc.stderr
    assert "Errno" not in proc.stderr and "adm_" not in proc.stderr


# --- point 4: the banner names what is mounted, uncut ------------------------------------------------


def test_banner_lists_every_mounted_front_door_with_its_credentials_uncut() -> None:
    settings = Settings(database_url="sqlite:///x.db", admin_token="adm_fixed", admin_token_generated=False)
    text = "\n".join(banner_lines(settings, DIALECTS))
    for path in ("/api/v1", "/stripe/v1", "/multisafepay/v1/", "/secuconnect", "/klarna/v2", "/payone/post-gateway/"):
        assert f"http://127.0.0.1:8000{path}" in text
    for secret in (SANDBOX.secuconnect_client_secret, SANDBOX.klarna_partner_account_id, SANDBOX.payone_key):
        assert secret in text
    assert "/dashboard" in text and "/api/docs" in text and "adm_fixed" in text and "…" not in text
    only_native = {"native": DIALECTS["native"]}
    text = "\n".join(banner_lines(settings, only_native))
    assert "/stripe" not in text and "MultiSafepay" not in text and SANDBOX.msp_api_key not in text


# --- point 5: nothing cut, money as money ------------------------------------------------------------


def test_merchant_create_prints_every_secret_whole(home: dict[str, str | None]) -> None:
    assert run(home, "migrate").exit_code == 0
    result = run(home, "merchant", "create", "--name", "Shop A")
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    secret = re.search(r"secuconnect\.client_secret: ([0-9a-f]+)$", result.output, re.M)
    assert secret is not None and len(secret.group(1)) == 64


def test_payments_list_shows_whole_ids_and_money(home: dict[str, str | None], tmp_path: Path) -> None:
    assert run(home, "migrate").exit_code == 0
    from kasse.dialects.registry import hooks
    from kasse.domain.models import Method
    from kasse.engine import payments
    from kasse.engine.unit import Kasse
    from kasse.storage.db import Database

    kasse = Kasse(Database(f"sqlite:///{tmp_path}/data/kasse/kasse.db"), hooks=hooks())
    with kasse.unit(merchant_id=SANDBOX.id) as tx:
        created = payments.create_payment(
            tx, payments.CreatePayment(origin="native", amount_minor=15000, currency="EUR", method=Method.SOFORT)
        )
    result = run(home, "payments", "list")
    assert result.exit_code == 0, result.output
    assert created.id in result.output and "150.00 EUR" in result.output and "…" not in result.output


# --- point 6: typos are errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["payments", "list", "--status", "bogus"], "--status"),
        (["payments", "list", "--merchant", "mer_nope"], "mer_nope"),
        (["events", "list", "--type", "payment.succeded"], "--type"),
        (["clock", "show", "--merchant", "mer_nope"], "mer_nope"),
    ],
)
def test_cli_filters_with_unknown_values_exit_2(home: dict[str, str | None], args: list[str], word: str) -> None:
    assert run(home, "migrate").exit_code == 0
    result = run(home, *args)
    assert result.exit_code == 2 and word in result.output, result.output


def test_api_filters_with_unknown_values_are_400_naming_the_parameter(client: TestClient) -> None:
    for url, param in (
        ("/api/v1/payments?status=succeded", "status"),
        ("/api/v1/events?type=payment.succeded", "type"),
    ):
        r = client.get(url, headers=AUTH)
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["param"] == param and error["code"] == "parameter_invalid" and param in error["message"]
    for good in ("status=succeeded", "type=payment.*", "type=payment.succeeded", "type=stripe:charge.succeeded"):
        assert (
            client.get(f"/api/v1/{'payments' if 'status' in good else 'events'}?{good}", headers=AUTH).status_code
            == 200
        )


# --- point 7: errors say why -----------------------------------------------------------------------------

BODY = {"currency": "EUR", "method": "sofort", "country": "DE", "return_url": "http://127.0.0.1:9/r"}


@pytest.mark.parametrize(("amount", "hint"), [("25.00", "send 2500"), (25.5, "send 2550")])
def test_a_string_or_fractional_amount_explains_minor_units(client: TestClient, amount: object, hint: str) -> None:
    r = client.post("/api/v1/payments", headers=AUTH, json={**BODY, "amount": amount})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == "amount" and "integers in minor units (2500 = 25.00 EUR)" in error["message"]
    assert hint in error["message"]


def test_malformed_json_names_line_and_column(client: TestClient) -> None:
    body = '{\n  "amount": 2500,\n  "currency": EUR\n}'
    r = client.post("/api/v1/payments", headers={**AUTH, "Content-Type": "application/json"}, content=body)
    assert r.status_code == 400
    assert "line 3, column 15" in r.json()["error"]["message"], r.text


def test_capturing_sofort_says_it_is_captured_with_the_authorization(client: TestClient) -> None:
    pay = client.post("/api/v1/payments", headers=AUTH, json={**BODY, "amount": 2500}).json()
    for _ in range(2):  # before the customer approved, and after
        r = client.post(f"/api/v1/payments/{pay['id']}/capture", headers=AUTH)
        assert r.status_code == 409
        assert "sofort is captured with the authorization" in r.json()["error"]["message"]
        client.post(f"/_sandbox/payments/{pay['id']}/approve", headers=AUTH)


# --- point 8: a clock advance says what each timer did --------------------------------------------------


def test_clock_advance_says_which_timers_acted(client: TestClient) -> None:
    pay = client.post("/api/v1/payments", headers=AUTH, json={**BODY, "amount": 2500}).json()
    client.post(f"/_sandbox/payments/{pay['id']}/approve", headers=AUTH)
    fired = client.post("/_sandbox/clock/advance", headers=AUTH, json={"seconds": 172800}).json()["fired"]
    by_kind = {f["kind"]: f for f in fired}
    assert by_kind["payment_expiry"]["acted"] is False and by_kind["payment_expiry"]["events"] == []
    settlement = by_kind["capture_settlement"]
    assert settlement["acted"] is True and settlement["events"] == ["capture.succeeded", "payment.succeeded"]


# --- point 1 and 9: offline docs, version, trailing slash, help -----------------------------------------


def test_api_docs_load_nothing_from_outside(client: TestClient) -> None:
    html = client.get("/api/docs").text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", html) + re.findall(r"url: ?'([^']+)'", html)
    assert urls and all(u.startswith("/") for u in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "cdn" not in html.lower()


def test_openapi_version_is_the_package_version_and_a_trailing_slash_is_accepted(client: TestClient) -> None:
    assert client.get("/api/openapi.json").json()["info"]["version"] == __version__
    r = client.post("/api/v1/payments/", headers=AUTH, json={**BODY, "amount": 2500}, follow_redirects=False)
    assert r.status_code == 201, r.text
    assert client.get(f"/api/v1/payments/{r.json()['id']}/", headers=AUTH).status_code == 200


def test_help_shows_no_bool_metavars_or_raw_markup() -> None:
    for args in (["serve", "--help"], ["migrate", "--help"], ["listen", "--help"], ["--help"]):
        out = runner.invoke(cli, args, env={"COLUMNS": "100"}).output
        assert "<bool>" not in out and "``" not in out and "`" not in out, out
