"""Klarna's webhooks from a live Kasse, on SQLite and PostgreSQL: signing keys and subscriptions, the v2
and v1 envelopes, every signature checked with a plain HMAC as Klarna's partner plugins check it, the
simulate call, and the retry schedule (10 s, 2 min, 15 min, 3 h, 6 h, 12 h) on the merchant's clock."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from kasse.storage.db import Database
from tests.conftest import AUTH, LiveServer
from tests.klarna_support import ACCOUNT, HookReceiver, Klarna, live_kasse, verify
from tests.msp_helpers import advance, wait_until


@pytest.fixture
def server(database: Database) -> Iterator[LiveServer]:
    with live_kasse(database) as live:
        yield live


@pytest.fixture
def klarna(server: LiveServer) -> Iterator[Klarna]:
    client = Klarna(server.url)
    yield client
    client.http.close()


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    yield from HookReceiver().start()


def _subscribe(klarna: Klarna, url: str, events: list[str], version: str = "v2") -> tuple[dict[str, str], str]:
    key = klarna.post("/v2/notification/signing-keys")
    assert key.status_code == 201, key.text
    k = key.json()
    assert set(k) == {"signing_key_id", "signing_key", "created_at"}
    body = {"url": url, "event_types": events, "event_version": version, "signing_key_id": k["signing_key_id"],
            "status": "ENABLED"}  # fmt: skip
    hook = klarna.post("/v2/notification/webhooks", body)
    assert hook.status_code == 201, hook.text
    assert hook.json()["webhook_id"].startswith("krn:partner:global:notification:webhook:")
    return {k["signing_key_id"]: k["signing_key"]}, hook.json()["webhook_id"]


def _attempts(server: LiveServer) -> int:
    events = httpx.get(f"{server.url}/api/v1/events", params={"limit": 100}, headers=AUTH).json()["data"]
    total = 0
    for event in events:
        if event["type"].startswith("klarna:"):
            url = f"{server.url}/api/v1/events/{event['id']}/deliveries"
            total += sum(d["attempt_count"] for d in httpx.get(url, headers=AUTH).json()["data"])
    return total


def test_the_journey_and_the_transaction_are_signed_webhooks(
    server: LiveServer, klarna: Klarna, receiver: HookReceiver
) -> None:
    keys, webhook_id = _subscribe(klarna, receiver.url, ["payment.request.state-change.*", "payment.transaction.*"])
    answer = klarna.step_up(2500, "https://shop.example/r")
    request_id = answer["payment_request"]["payment_request_id"]
    done = klarna.approve(request_id)
    token = done["state_context"]["klarna_network_session_token"]
    body = {"currency": "EUR", "request_payment_transaction": {"amount": 2500}}
    tid = klarna.authorize(body, **{"Klarna-Network-Session-Token": token}).json()["payment_transaction_response"][
        "payment_transaction"]["payment_transaction_id"]  # fmt: skip
    assert klarna.post(f"/v2/payment/transactions/{tid}/captures", {"amount": 2500}).status_code == 201
    assert klarna.post(f"/v2/payment/transactions/{tid}/refunds", {"amount": 500}).status_code == 201
    wanted = [
        "payment.request.state-change.submitted", "payment.request.state-change.in-progress",
        "payment.request.state-change.completed", "payment.transaction.state-change.authorized",
        "payment.transaction.captured", "payment.transaction.state-change.completed", "payment.transaction.refunded",
    ]  # fmt: skip
    wait_until(lambda: all(receiver.of_type(t) for t in wanted))
    for hook in receiver.received:
        assert verify(hook.body, hook.headers, keys), "the signature does not verify"
        meta = hook.json["metadata"]
        assert (meta["event_version"], meta["webhook_id"], meta["live"]) == ("v2", webhook_id, False)
        assert meta["subject_account_id"] == meta["recipient_account_id"] == ACCOUNT
        assert meta["occurred_at"].endswith("Z") and meta["event_id"]
    completed = receiver.of_type("payment.request.state-change.completed")[0].json["payload"]
    assert (completed["payment_request_id"], completed["state"]) == (request_id, "COMPLETED")
    assert completed["klarna_network_session_token"] == token  # top level, where KROK reads it
    assert completed["state_context"]["payment_token"] == done["state_context"]["payment_token"]
    captured = receiver.of_type("payment.transaction.captured")[0].json["payload"]
    assert (captured["payment_transaction_id"], captured["captured_amount"]) == (tid, 2500)
    # A tampered body or a wrong key fails the same check.
    first = receiver.received[0]
    assert not verify(first.body + b" ", first.headers, keys)
    assert not verify(first.body, first.headers, {k: "other" for k in keys})


def test_a_v1_subscription_gets_the_v1_envelope_and_simulate_reaches_it_alone(
    klarna: Klarna, receiver: HookReceiver
) -> None:
    keys, v1_id = _subscribe(klarna, receiver.url, ["payment.request.state-change.completed"], version="v1")
    _, other_id = _subscribe(klarna, receiver.url + "/other", ["payment.request.*"])
    r = klarna.post(f"/v2/notification/webhooks/{v1_id}/simulate",
                    {"event_type": "payment.request.state-change.completed", "event_version": "v1"})  # fmt: skip
    assert r.status_code == 204, r.text
    wait_until(lambda: len(receiver.received) >= 1)
    hook = receiver.received[0]
    meta = hook.json["metadata"]
    assert (meta["event_type"], meta["event_version"], meta["webhook_id"]) == (
        "payment.request.state-change.completed", "v1", v1_id)  # fmt: skip
    assert meta["account_id"] == ACCOUNT and "subject_account_id" not in meta
    assert verify(hook.body, hook.headers, keys)
    assert len(receiver.received) == 1  # the other subscription matches the type, but was not simulated
    listed = klarna.call("GET", "/v2/notification/webhooks").json()["webhooks"]
    assert {w["webhook_id"] for w in listed} == {v1_id, other_id}
    assert all(not t.startswith("simulate.") for w in listed for t in w["event_types"])
    patched = klarna.call("PATCH", f"/v2/notification/webhooks/{other_id}", {"status": "DISABLED"})
    assert patched.json()["status"] == "DISABLED"
    assert klarna.call("DELETE", f"/v2/notification/webhooks/{other_id}").status_code == 204
    assert klarna.call("GET", f"/v2/notification/webhooks/{other_id}").status_code == 404


def test_an_unacknowledged_webhook_is_retried_on_klarnas_schedule(
    server: LiveServer, klarna: Klarna, receiver: HookReceiver
) -> None:
    receiver.status = 500
    # A frozen clock moves only with the advances: each retry falls due exactly on schedule.
    assert httpx.post(f"{server.url}/_sandbox/clock/freeze", json={}, headers=AUTH).status_code == 200
    keys, _ = _subscribe(klarna, receiver.url, ["payment.request.state-change.submitted"])
    klarna.post("/v2/payment/requests", {"currency": "EUR", "amount": 100})
    wait_until(lambda: _attempts(server) == 1)
    for gap_s, expected in ((10, 2), (120, 3), (900, 4), (10_800, 5), (21_600, 6), (43_200, 7)):
        advance(server, gap_s - 1)
        assert len(receiver.received) == expected - 1, gap_s
        advance(server, 1)
        assert len(receiver.received) == expected, gap_s
    advance(server, 7 * 86_400)
    assert len(receiver.received) == 7  # six retries, then Klarna gives up
    assert all(verify(h.body, h.headers, keys) for h in receiver.received)
    assert len({h.json["metadata"]["event_id"] for h in receiver.received}) == 1  # the same event each time


def test_a_2xx_acknowledges(server: LiveServer, klarna: Klarna, receiver: HookReceiver) -> None:
    receiver.status = 202
    _subscribe(klarna, receiver.url, ["payment.request.state-change.submitted"])
    klarna.post("/v2/payment/requests", {"currency": "EUR", "amount": 100})
    wait_until(lambda: _attempts(server) == 1)
    advance(server, 86_400)
    assert len(receiver.received) == 1
