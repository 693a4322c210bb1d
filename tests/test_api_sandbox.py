"""The sandbox control plane over HTTP: each merchant's clock (read, advance, freeze, resume), the
bank's answer without a browser, and reset."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kasse.engine.merchants import SANDBOX
from kasse.engine.unit import Kasse
from tests.conftest import AUTH
from tests.helpers import FakeWall, assert_ledger_invariants
from tests.test_api_support import (
    DAY_S,
    KLARNA_MANUAL,
    SOFORT,
    advance,
    approve,
    assert_error,
    assert_nothing_written,
    balance,
    bearer,
    create,
    event_types,
    get_payment,
    ids,
    listing,
    new_merchant,
    refund,
)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _clock(client: TestClient, headers: dict[str, str] = AUTH) -> dict[str, Any]:
    r = client.get("/_sandbox/clock", headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _post(client: TestClient, path: str) -> dict[str, Any]:
    r = client.post(path, headers=AUTH)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


# --- the clock ----------------------------------------------------------------------------------------


def test_clock_starts_at_wall_time(client: TestClient, wall: FakeWall) -> None:
    assert _clock(client) == {
        "object": "clock",
        "now": _iso(wall.now),
        "frozen": False,
        "offset_seconds": 0,
        "fired": [],
    }
    wall.tick(90)
    assert _clock(client)["now"] == _iso(wall.now)


def test_advance_fires_due_timers_in_due_order_before_answering(client: TestClient, wall: FakeWall) -> None:
    start = wall.now
    daily = create(client)
    hourly = create(client, expires_in=3600)
    paid = create(client)
    approve(client, paid["id"])

    clock = advance(client, 3 * DAY_S)
    assert clock["now"] == _iso(start + timedelta(days=3))
    assert (clock["frozen"], clock["offset_seconds"]) == (False, 3 * DAY_S)
    fired = [(f["kind"], f["subject"]) for f in clock["fired"]]
    assert fired[0] == ("payment_expiry", hourly["id"])
    assert set(fired[1:]) == {
        ("payment_expiry", daily["id"]),
        ("payment_expiry", paid["id"]),  # fires and finds nothing to do: the payment moved on
        ("capture_settlement", next(iter(listing(client, f"/api/v1/payments/{paid['id']}/captures")["data"]))["id"]),
    }
    assert fired[-1][0] == "capture_settlement"  # two days after the capture, after the one-day expiries
    due = [f["due_at"] for f in clock["fired"]]
    assert due == sorted(due)
    assert all(f["timer"].startswith("tmr_") for f in clock["fired"])

    # Each timer fired at its own due time on the merchant's clock, not at the end of the jump.
    assert get_payment(client, hourly["id"])["updated_at"] == hourly["expires_at"]
    assert get_payment(client, daily["id"])["updated_at"] == daily["expires_at"]
    succeeded = get_payment(client, paid["id"])
    assert succeeded["status"] == "succeeded"
    assert succeeded["updated_at"] == _iso(start + timedelta(days=2))

    # The wall clock did not move; the merchant's clock did, and stays ahead.
    assert wall.now == start
    assert _clock(client)["now"] == _iso(start + timedelta(days=3))
    assert advance(client, DAY_S)["fired"] == []


def test_advance_by_fractions_of_a_second(client: TestClient, wall: FakeWall) -> None:
    clock = advance(client, 1.5)
    assert clock["offset_seconds"] == 1.5
    assert clock["now"] == _iso(wall.now + timedelta(seconds=1.5))


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"seconds": 0}, "parameter_invalid"),
        ({"seconds": -60}, "parameter_invalid"),
        ({"seconds": 10 * 365 * DAY_S + 1}, "parameter_invalid"),
        ({"seconds": None}, "parameter_invalid"),
        ({}, "parameter_missing"),
        ({"seconds": 60, "days": 1}, None),
    ],
)
def test_bad_advance_is_400_and_leaves_the_clock(client: TestClient, body: dict[str, Any], code: str | None) -> None:
    create(client, expires_in=60)
    r = client.post("/_sandbox/clock/advance", json=body, headers=AUTH)
    param = "days" if "days" in body else "seconds"
    assert_error(r, 400, code, param)
    assert _clock(client)["offset_seconds"] == 0
    assert [p["status"] for p in listing(client, "/api/v1/payments")["data"]] == ["requires_action"]


def test_advance_refuses_infinity(client: TestClient) -> None:
    r = client.post(
        "/_sandbox/clock/advance",
        content=b'{"seconds": Infinity}',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert_error(r, 400, "parameter_invalid", "seconds")
    assert _clock(client)["offset_seconds"] == 0


def test_frozen_clock_ignores_the_wall_until_resumed(client: TestClient, wall: FakeWall) -> None:
    frozen = _post(client, "/_sandbox/clock/freeze")
    assert frozen["frozen"] is True
    at = frozen["now"]
    assert at == _iso(wall.now)

    wall.tick(3600)
    first, second = _clock(client), _clock(client)
    assert first == second
    assert (first["now"], first["frozen"]) == (at, True)
    # Objects get the frozen time, and the wall moving past a deadline fires nothing.
    p = create(client, expires_in=60)
    assert p["created_at"] == at
    wall.tick(DAY_S)
    assert _clock(client)["now"] == at
    assert get_payment(client, p["id"])["status"] == "requires_action"

    # Advancing a frozen clock moves it and keeps it frozen.
    moved = advance(client, 30)
    assert (moved["now"], moved["frozen"], moved["fired"]) == (
        _iso(datetime.fromisoformat(at) + timedelta(seconds=30)),
        True,
        [],
    )
    wall.tick(5)
    assert _clock(client)["now"] == moved["now"]
    moved = advance(client, 31)
    assert [f["subject"] for f in moved["fired"]] == [p["id"]]
    assert get_payment(client, p["id"])["status"] == "expired"

    # Resumed, it runs on from where it stood, with the wall.
    resumed = _post(client, "/_sandbox/clock/resume")
    assert (resumed["now"], resumed["frozen"]) == (moved["now"], False)
    wall.tick(5)
    assert _clock(client)["now"] == _iso(datetime.fromisoformat(moved["now"]) + timedelta(seconds=5))
    # Freezing and resuming twice changes nothing.
    assert _post(client, "/_sandbox/clock/resume")["frozen"] is False
    assert _post(client, "/_sandbox/clock/freeze")["frozen"] is True
    assert _post(client, "/_sandbox/clock/freeze")["now"] == _clock(client)["now"]


def test_each_merchant_has_its_own_clock(client: TestClient, wall: FakeWall) -> None:
    second = new_merchant(client)
    theirs = bearer(second["secret_key"])
    their_payment = create(client, theirs)
    mine = create(client)
    clock = advance(client, 2 * DAY_S)
    assert [f["subject"] for f in clock["fired"]] == [mine["id"]]
    assert get_payment(client, mine["id"])["status"] == "expired"
    assert get_payment(client, their_payment["id"], theirs)["status"] == "requires_action"
    assert _clock(client, theirs)["now"] == _iso(wall.now)
    assert _post(client, "/_sandbox/clock/freeze")["frozen"] is True
    assert _clock(client, theirs)["frozen"] is False


# --- approve and decline --------------------------------------------------------------------------------


def test_approve_answers_the_payment(client: TestClient, kasse: Kasse) -> None:
    p = create(client, **KLARNA_MANUAL)
    approved = approve(client, p["id"])
    assert approved["id"] == p["id"]
    assert approved["status"] == "authorized"
    assert approved["amount_capturable"] == 1000
    assert approved["authorized_at"] == approved["created_at"]
    assert get_payment(client, p["id"]) == approved
    assert event_types(client) == ["payment.created", "payment.authorized"]
    with kasse.read() as store:
        assert_ledger_invariants(store, "mer_sandbox")


def test_approve_and_decline_refuse_what_cannot_be(client: TestClient) -> None:
    assert_error(client.post("/_sandbox/payments/pay_missing/approve", headers=AUTH), 404, "resource_missing", "id")
    assert_error(client.post("/_sandbox/payments/pay_missing/decline", headers=AUTH), 404, "resource_missing", "id")
    p = create(client)
    for bad, param in [({"code": "Not Allowed"}, "code"), ({"message": "x" * 501}, "message"), ({"x": 1}, "x")]:
        assert_error(client.post(f"/_sandbox/payments/{p['id']}/decline", json=bad, headers=AUTH), 400, param=param)
    assert get_payment(client, p["id"])["status"] == "requires_action"
    advance(client, DAY_S + 1)
    assert_error(client.post(f"/_sandbox/payments/{p['id']}/approve", headers=AUTH), 409, "invalid_state")
    assert_error(client.post(f"/_sandbox/payments/{p['id']}/decline", headers=AUTH), 409, "invalid_state")
    assert event_types(client) == ["payment.created", "payment.expired"]


# --- reset --------------------------------------------------------------------------------------------


def test_reset_deletes_this_merchants_data_only(client: TestClient, kasse: Kasse) -> None:
    second = new_merchant(client)
    theirs = bearer(second["secret_key"])
    their_payment = create(client, theirs)
    approve(client, their_payment["id"], theirs)

    key = {**AUTH, "Idempotency-Key": "before-reset"}
    assert client.post("/api/v1/payments", json=SOFORT, headers=key).status_code == 201
    paid = create(client)
    approve(client, paid["id"])
    advance(client, 3 * DAY_S)
    refund(client, paid["id"], amount=100)
    pending = create(client, **KLARNA_MANUAL)
    approve(client, pending["id"])
    assert balance(client)["available"] == {"EUR": 900}

    r = client.post("/_sandbox/reset", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json() == {"object": "reset", "merchant": "mer_sandbox", "deleted": True}
    assert_nothing_written(client)
    for gone in (paid["id"], pending["id"]):
        assert_error(client.get(f"/api/v1/payments/{gone}", headers=AUTH), 404, "resource_missing")

    # The clock stays where it was; its timers are gone with the payments.
    clock = _clock(client)
    assert clock["offset_seconds"] == 3 * DAY_S
    assert advance(client, 30 * DAY_S)["fired"] == []

    # The other merchant keeps everything.
    assert ids(listing(client, "/api/v1/payments", theirs)) == [their_payment["id"]]
    assert get_payment(client, their_payment["id"], theirs)["status"] == "processing"
    assert event_types(client, theirs)[:2] == ["payment.created", "payment.authorized"]
    assert balance(client, theirs)["pending"] == {"EUR": 1000}
    with kasse.read() as store:
        assert_ledger_invariants(store, second["id"])
        assert_ledger_invariants(store, "mer_sandbox")

    # The credentials stay, and idempotency keys are forgotten.
    again = client.post("/api/v1/payments", json={**SOFORT, "amount": 5}, headers=key)
    assert again.status_code == 201, again.text
    assert "idempotent-replayed" not in again.headers
    assert ids(listing(client, "/api/v1/payments")) == [again.json()["id"]]


def test_reset_with_the_other_merchants_key_resets_theirs(client: TestClient) -> None:
    second = new_merchant(client)
    theirs = bearer(second["secret_key"])
    create(client, theirs)
    mine = create(client)
    r = client.post("/_sandbox/reset", headers=theirs)
    assert r.status_code == 200, r.text
    assert r.json()["merchant"] == second["id"]
    assert_nothing_written(client, theirs)
    assert ids(listing(client, "/api/v1/payments")) == [mine["id"]]


def test_background_workers_leave_a_merchant_alone_while_its_clock_advance_runs(
    client: TestClient, kasse: Kasse, app: Any
) -> None:
    """During an advance the merchant's clock already shows the target; a scheduler pass then would
    fire due timers dated at the target (so what they schedule lands beyond it). It waits instead: the
    advance holds the merchant's clock lock (a session lock, which a dying process gives up with its
    connection or file)."""
    from kasse.engine import serial, timers
    from kasse.web.workers import Scheduler

    pid = client.post("/api/v1/payments", json={**SOFORT, "expires_in": 60}, headers=AUTH).json()["id"]
    scheduler = Scheduler(kasse)
    with serial.clock_held(kasse, merchant_id=SANDBOX.id, wait_s=5) as held:
        assert held
        timers.move_clock(kasse, merchant_id=SANDBOX.id, seconds=120)
        assert scheduler.run_once() == 0  # held back: the advance fires it
        assert app.state.deliverer.run_once() == 0
        assert client.get(f"/api/v1/payments/{pid}", headers=AUTH).json()["status"] == "requires_action"
    assert scheduler.run_once() == 1  # the advance is over (here it fired nothing itself)
    assert client.get(f"/api/v1/payments/{pid}", headers=AUTH).json()["status"] == "expired"
