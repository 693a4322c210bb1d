"""Native webhooks end to end: a real HTTP receiver on a loopback port verifies every delivery with the
``standardwebhooks`` package; retries happen on the merchant's clock; replay; disabling."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from tests.conftest import AUTH

SOFORT = {"amount": 1000, "currency": "EUR", "method": "sofort", "return_url": "https://shop.example/r"}


class Receiver:
    """Answers with the next programmed status (then 200), verifying each request's signature."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[dict[str, Any]] = []
        self.secret: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                assert receiver.secret is not None
                payload = Webhook(receiver.secret).verify(body, headers)  # raises if the signature is wrong
                receiver.received.append({"headers": headers, "payload": payload})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"boom")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def types(self) -> list[str]:
        return [r["payload"]["type"] for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def register(client: TestClient, receiver: Receiver, events: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": receiver.url, "description": "test shop"}
    if events is not None:
        body["enabled_events"] = events
    r = client.post("/api/v1/webhook_endpoints", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    endpoint: dict[str, Any] = r.json()
    assert endpoint["secret"].startswith("whsec_")
    receiver.secret = endpoint["secret"]
    return endpoint


def advance(client: TestClient, seconds: float) -> dict[str, Any]:
    r = client.post("/_sandbox/clock/advance", json={"seconds": seconds}, headers=AUTH)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_payment_life_arrives_signed_and_in_order(client: TestClient, receiver: Receiver) -> None:
    register(client, receiver)
    pid = client.post("/api/v1/payments", json=SOFORT, headers=AUTH).json()["id"]
    client.post(f"/_sandbox/payments/{pid}/approve", headers=AUTH)
    advance(client, 1)  # deliveries due now go out before the answer
    assert receiver.types() == ["payment.created", "payment.authorized", "payment.processing", "capture.created"]
    advance(client, 2 * 86_400)
    assert receiver.types()[4:] == ["capture.succeeded", "payment.succeeded"]
    first = receiver.received[0]
    assert first["headers"]["webhook-id"] == first["payload"]["id"]
    assert first["payload"]["data"]["object"]["id"] == pid


def test_only_enabled_events_are_delivered(client: TestClient, receiver: Receiver) -> None:
    register(client, receiver, ["payment.succeeded", "refund.*"])
    pid = client.post("/api/v1/payments", json=SOFORT, headers=AUTH).json()["id"]
    client.post(f"/_sandbox/payments/{pid}/approve", headers=AUTH)
    client.post(f"/api/v1/payments/{pid}/refunds", json={"amount": 100}, headers=AUTH)
    advance(client, 3 * 86_400)
    assert sorted(receiver.types()) == ["payment.succeeded", "refund.created", "refund.succeeded"]


def test_500_500_200_gives_three_attempts_as_the_clock_advances(client: TestClient, receiver: Receiver) -> None:
    register(client, receiver, ["payment.created"])
    receiver.statuses = [500, 500]
    pid = client.post("/api/v1/payments", json=SOFORT, headers=AUTH).json()["id"]
    assert advance(client, 1)["delivery_attempts"] == 1
    event_id = receiver.received[0]["payload"]["id"]
    deliveries = client.get(f"/api/v1/events/{event_id}/deliveries", headers=AUTH).json()["data"]
    assert [d["status"] for d in deliveries] == ["pending"] and deliveries[0]["attempt_count"] == 1
    assert advance(client, 58)["delivery_attempts"] == 0  # the first retry is due a minute after the first
    assert advance(client, 10 * 60)["delivery_attempts"] == 2  # at +1 min (500) and +6 min (200)
    assert len(receiver.received) == 3 and {r["payload"]["id"] for r in receiver.received} == {event_id}
    delivery = client.get(f"/api/v1/events/{event_id}/deliveries", headers=AUTH).json()["data"][0]
    assert delivery["status"] == "succeeded" and delivery["attempt_count"] == 3
    assert [a["response"]["status"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["attempts"][0]["request"]["headers"]["webhook-id"] == event_id
    assert json.loads(delivery["attempts"][2]["request"]["body"])["data"]["object"]["id"] == pid


def test_a_delivery_can_be_replayed_by_hand(client: TestClient, receiver: Receiver) -> None:
    register(client, receiver, ["payment.created"])
    client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
    advance(client, 1)
    event_id = receiver.received[0]["payload"]["id"]
    delivery_id = client.get(f"/api/v1/events/{event_id}/deliveries", headers=AUTH).json()["data"][0]["id"]
    r = client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=AUTH)
    assert r.status_code == 200, r.text
    assert [a["trigger"] for a in r.json()["attempts"]] == ["schedule", "manual"]
    assert len(receiver.received) == 2


def test_an_endpoint_failing_for_days_is_disabled_and_an_event_says_so(client: TestClient, receiver: Receiver) -> None:
    endpoint = register(client, receiver, ["payment.*"])
    receiver.statuses = [503] * 100
    client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
    advance(client, 4 * 86_400)
    current = client.get(f"/api/v1/webhook_endpoints/{endpoint['id']}", headers=AUTH).json()
    assert current["status"] == "disabled" and current["disabled_reason"] == "failing"
    events = client.get("/api/v1/events?type=webhook_endpoint.*", headers=AUTH).json()["data"]
    assert [e["type"] for e in events] == ["webhook_endpoint.disabled"]
    assert "secret" not in events[0]["data"]["object"]


def test_a_disabled_endpoint_receives_nothing(client: TestClient, receiver: Receiver) -> None:
    endpoint = register(client, receiver)
    r = client.post(f"/api/v1/webhook_endpoints/{endpoint['id']}", json={"disabled": True}, headers=AUTH)
    assert r.json()["status"] == "disabled"
    client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
    advance(client, 3600)
    assert receiver.received == []


def test_endpoints_are_listed_rotated_and_deleted(client: TestClient, receiver: Receiver) -> None:
    endpoint = register(client, receiver)
    listed = client.get("/api/v1/webhook_endpoints", headers=AUTH).json()["data"]
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    rotated = client.post(f"/api/v1/webhook_endpoints/{endpoint['id']}/rotate_secret", headers=AUTH).json()
    assert rotated["secret"] != endpoint["secret"]
    receiver.secret = rotated["secret"]
    client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
    advance(client, 1)
    assert receiver.types() == ["payment.created"]  # verified with the new secret
    assert client.delete(f"/api/v1/webhook_endpoints/{endpoint['id']}", headers=AUTH).json()["deleted"] is True
    assert client.get(f"/api/v1/webhook_endpoints/{endpoint['id']}", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    ("body", "param"),
    [({"url": "ftp://x"}, "url"), ({"url": "http://x", "enabled_events": ["nope.thing"]}, "enabled_events"),
     ({"url": "http://x", "enabled_events": []}, "enabled_events"), ({"url": "http://x", "x": 1}, "x")],
)  # fmt: skip
def test_bad_endpoints_are_refused_and_leave_nothing(client: TestClient, body: dict[str, Any], param: str) -> None:
    r = client.post("/api/v1/webhook_endpoints", json=body, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["param"] == param
    assert client.get("/api/v1/webhook_endpoints", headers=AUTH).json()["data"] == []


# --- delivery settings and the sandbox fault switch ---------------------------------------------------


def deliveries_of_first(client: TestClient, receiver: Receiver | None = None) -> list[dict[str, Any]]:
    events = client.get("/api/v1/events?type=payment.created", headers=AUTH).json()["data"]
    data: list[dict[str, Any]] = client.get(f"/api/v1/events/{events[-1]['id']}/deliveries", headers=AUTH).json()[
        "data"
    ]
    return data


def test_a_merchant_sets_its_own_timeout_and_retry_schedule(client: TestClient, receiver: Receiver) -> None:
    register(client, receiver, ["payment.created"])
    r = client.post("/api/v1/webhook_settings", json={"timeout_seconds": 2, "retry_schedule": [10, 20]}, headers=AUTH)
    assert r.json() == {"object": "webhook_settings", "timeout_seconds": 2.0, "retry_schedule": [10, 20]}
    assert client.get("/api/v1/webhook_settings", headers=AUTH).json()["retry_schedule"] == [10, 20]
    receiver.statuses = [500] * 10
    client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
    assert advance(client, 1)["delivery_attempts"] == 1
    assert advance(client, 40)["delivery_attempts"] == 2  # at +10 s and +30 s, then the schedule is used up
    (delivery,) = deliveries_of_first(client)
    assert delivery["status"] == "failed" and delivery["attempt_count"] == 3
    assert advance(client, 86_400)["delivery_attempts"] == 0


@pytest.mark.parametrize("body", [{"timeout_seconds": 0}, {"retry_schedule": [0]}, {"retry_schedule": "60"}])
def test_bad_webhook_settings_are_refused(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post("/api/v1/webhook_settings", json=body, headers=AUTH).status_code == 400
    assert client.get("/api/v1/webhook_settings", headers=AUTH).json()["timeout_seconds"] == 10.0


def set_faults(client: TestClient, **faults: Any) -> dict[str, Any]:
    r = client.post("/_sandbox/faults", json=faults, headers=AUTH)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_dropped_deliveries_are_recorded_and_retried(client: TestClient, receiver: Receiver) -> None:
    register(client, receiver, ["payment.created"])
    assert set_faults(client, drop=1.0)["active"] is True
    client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
    advance(client, 1)
    assert receiver.received == []
    (delivery,) = deliveries_of_first(client)
    assert delivery["attempts"][0]["error"] == "dropped by the sandbox fault switch"
    assert client.delete("/_sandbox/faults", headers=AUTH).json()["active"] is False
    advance(client, 60)
    assert receiver.types() == ["payment.created"]
    assert deliveries_of_first(client)[0]["status"] == "succeeded"


def test_duplicated_deliveries_arrive_twice_with_one_webhook_id(client: TestClient, receiver: Receiver) -> None:
    register(client, receiver, ["payment.created"])
    set_faults(client, duplicate=1.0)
    client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
    advance(client, 1)
    assert len(receiver.received) == 2
    assert receiver.received[0]["headers"]["webhook-id"] == receiver.received[1]["headers"]["webhook-id"]
    assert [a["trigger"] for a in deliveries_of_first(client)[0]["attempts"]] == ["schedule", "duplicate"]


def test_held_back_deliveries_arrive_after_the_delay(client: TestClient, receiver: Receiver) -> None:
    register(client, receiver, ["payment.created"])
    set_faults(client, delay=1.0, delay_seconds=300)
    client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
    advance(client, 299)
    assert receiver.received == []
    advance(client, 2)
    assert receiver.types() == ["payment.created"]


def test_reordered_batches_arrive_in_reverse(client: TestClient, receiver: Receiver) -> None:
    register(client, receiver, ["payment.created"])
    set_faults(client, reorder=1.0, seed=7)
    ids = [client.post("/api/v1/payments", json=SOFORT, headers=AUTH).json()["id"] for _ in range(3)]
    advance(client, 1)
    assert [r["payload"]["data"]["object"]["id"] for r in receiver.received] == list(reversed(ids))


def test_faults_are_validated_and_scoped_to_the_merchant(client: TestClient) -> None:
    assert client.post("/_sandbox/faults", json={"drop": 1.5}, headers=AUTH).status_code == 400
    assert client.get("/_sandbox/faults", headers=AUTH).json()["active"] is False
    set_faults(client, drop=0.5, seed=1)
    admin = {"Authorization": f"Bearer {client.app.state.settings.admin_token}"}  # type: ignore[attr-defined]
    other = client.post("/_admin/merchants", json={"name": "Other"}, headers=admin).json()
    theirs = client.get("/_sandbox/faults", headers={"Authorization": f"Bearer {other['secret_key']}"}).json()
    assert theirs["active"] is False and client.get("/_sandbox/faults", headers=AUTH).json()["drop"] == 0.5


def test_the_live_worker_sends_a_batch_concurrently_each_payments_events_in_order(
    app: Any, client: TestClient, receiver: Receiver
) -> None:
    """The worker's own pass (not a clock advance): many payments' events go out concurrently, each
    payment's in the order they happened, including more of them than one pass sends per payment."""
    from kasse.delivery.worker import MAX_CHAIN

    register(client, receiver)
    pids = []
    for _ in range(12):
        pid = client.post("/api/v1/payments", json=SOFORT, headers=AUTH).json()["id"]
        client.post(f"/_sandbox/payments/{pid}/approve", headers=AUTH)
        pids.append(pid)
    # one payment with more events than a chain holds: partial refunds
    for _ in range(MAX_CHAIN):
        assert client.post(f"/api/v1/payments/{pids[0]}/refunds", json={"amount": 10}, headers=AUTH).status_code == 201
    deliverer = app.state.deliverer
    sent = 0
    for _ in range(10):
        sent += deliverer.run_once()
        if sent >= 12 * 4 + MAX_CHAIN:
            break
    assert sent == 12 * 4 + MAX_CHAIN, sent
    assert len(receiver.received) == sent
    assert len({r["payload"]["id"] for r in receiver.received}) == sent  # none twice
    for pid in pids:
        mine = [r["payload"] for r in receiver.received if r["payload"]["data"]["object"].get("id") == pid
                or r["payload"]["data"]["object"].get("payment_id") == pid]  # fmt: skip
        ids = [p["id"] for p in mine]  # event ids are minted in order
        assert len(ids) >= 4 and ids == sorted(ids), f"{pid}: events out of order: {[p['type'] for p in mine]}"
    deliveries = client.get("/api/v1/events?limit=100", headers=AUTH).json()["data"]
    assert len(deliveries) == sent


# --- the webhook target policy (issue 10): registration and every send -------------------------------

INTERNAL = [
    "http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/", "http://[fe80::1]:8080/", "http://[::ffff:169.254.169.254]/", "http://2852039166/",
    "http://0251.0376.0251.0376/", "http://[fd00:ec2::254]/", "http://100.100.100.200/", "http://0.0.0.0:8000/",
    "http://[::]/", "http://[ff02::1]/",
]  # fmt: skip
BAD_URLS = ["javascript:alert(1)", "data:text/html,x", "http://shop.example/h\r\nX-Injected: 1", "http:///hooks",
            "http://shop.example/a b", "http://shöp.example/"]  # fmt: skip


def endpoints(client: TestClient) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = client.get("/api/v1/webhook_endpoints", headers=AUTH).json()["data"]
    return data


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_targets_are_refused_at_registration_and_leave_nothing(client: TestClient, url: str) -> None:
    r = client.post("/api/v1/webhook_endpoints", json={"url": url}, headers=AUTH)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "url_refused", "url")
    assert "always refused" in error["message"]
    assert endpoints(client) == []


@pytest.mark.parametrize("url", BAD_URLS)
def test_urls_that_are_not_plain_http_are_refused(client: TestClient, url: str) -> None:
    r = client.post("/api/v1/webhook_endpoints", json={"url": url}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["param"] == "url"
    assert endpoints(client) == []


def test_an_endpoint_cannot_be_moved_to_an_internal_target(client: TestClient, receiver: Receiver) -> None:
    endpoint = register(client, receiver)
    r = client.post(f"/api/v1/webhook_endpoints/{endpoint['id']}", json={"url": INTERNAL[0]}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["param"] == "url"
    assert [e["url"] for e in endpoints(client)] == [receiver.url]


def _client_with(kasse: Any, **settings: Any) -> TestClient:
    from tests.conftest import _app

    return TestClient(_app(kasse, **settings))


def test_public_targets_only_refuses_loopback_and_private_addresses(kasse: Any, receiver: Receiver) -> None:
    with _client_with(kasse, webhook_targets="public") as client:
        for url in (receiver.url, "http://10.0.0.7/hooks", "http://[::1]:9/", "http://192.168.1.1/"):
            r = client.post("/api/v1/webhook_endpoints", json={"url": url}, headers=AUTH)
            assert r.status_code == 400 and "not a public address" in r.json()["error"]["message"], r.text
        assert endpoints(client) == []


def test_an_allow_list_admits_the_listed_shop_and_nothing_else_private(kasse: Any, receiver: Receiver) -> None:
    with _client_with(kasse, webhook_targets="127.0.0.1") as client:
        r = client.post("/api/v1/webhook_endpoints", json={"url": "http://10.0.0.7/hooks"}, headers=AUTH)
        assert r.status_code == 400 and r.json()["error"]["code"] == "url_refused"
        register(client, receiver, ["payment.created"])
        client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
        advance(client, 1)
        assert receiver.types() == ["payment.created"]


class FakeDns:
    """The one external seam: what a name resolves to, changed by the test (a DNS rebinding attack)."""

    def __init__(self, **answers: list[str]) -> None:
        self.answers = {name.replace("_", "."): addresses for name, addresses in answers.items()}

    def __call__(self, host: str, port: int) -> list[Any]:
        from ipaddress import ip_address

        return [ip_address(a) for a in self.answers[host]]


def _last_attempt(client: TestClient) -> dict[str, Any]:
    """The latest attempt of the latest payment.created event's one delivery."""
    latest = client.get("/api/v1/events?type=payment.created", headers=AUTH).json()["data"][0]
    (delivery,) = client.get(f"/api/v1/events/{latest['id']}/deliveries", headers=AUTH).json()["data"]
    attempt: dict[str, Any] = delivery["attempts"][-1]
    return attempt


def test_a_name_that_later_resolves_to_an_internal_address_is_never_sent_to(
    app: Any, client: TestClient, receiver: Receiver
) -> None:
    dns = FakeDns(shop_test=["127.0.0.1"])
    app.state.targets.resolver = dns  # the guard of registration and of the deliverer alike
    port = receiver.server.server_address[1]
    url = f"http://shop.test:{port}/hooks"
    r = client.post("/api/v1/webhook_endpoints", json={"url": url, "enabled_events": ["payment.created"]}, headers=AUTH)
    assert r.status_code == 201, r.text
    receiver.secret = r.json()["secret"]
    client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
    advance(client, 1)
    # Sent to the address that was checked (shop.test exists only in the fake DNS), under its own name.
    assert receiver.types() == ["payment.created"]
    assert receiver.received[0]["headers"]["host"] == f"shop.test:{port}"

    dns.answers["shop.test"] = ["127.0.0.1", "169.254.169.254"]  # rebinding: one answer is internal
    client.delete(f"/api/v1/webhook_endpoints/{r.json()['id']}", headers=AUTH)
    r = client.post("/api/v1/webhook_endpoints", json={"url": url, "enabled_events": ["payment.created"]}, headers=AUTH)
    assert r.status_code == 400 and "169.254.169.254" in r.json()["error"]["message"]
    dns.answers["shop.test"] = ["127.0.0.1"]
    assert client.post("/api/v1/webhook_endpoints", json={"url": url}, headers=AUTH).status_code == 201
    dns.answers["shop.test"] = ["169.254.169.254"]
    client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
    advance(client, 1)
    assert receiver.types() == ["payment.created"], "sent to a refused address"
    attempt = _last_attempt(client)
    assert attempt["succeeded"] is False and attempt["response"]["status"] is None
    assert attempt["error"] == "target refused: 169.254.169.254 is a cloud metadata address (always refused)"


def test_a_manual_retry_is_checked_like_any_send(app: Any, client: TestClient, receiver: Receiver) -> None:
    dns = FakeDns(shop_test=["127.0.0.1"])
    app.state.targets.resolver = dns
    port = receiver.server.server_address[1]
    body = {"url": f"http://shop.test:{port}/hooks", "enabled_events": ["payment.created"]}
    receiver.secret = client.post("/api/v1/webhook_endpoints", json=body, headers=AUTH).json()["secret"]
    client.post("/api/v1/payments", json=SOFORT, headers=AUTH)
    advance(client, 1)
    (delivery,) = deliveries_of_first(client)
    dns.answers["shop.test"] = ["fe80::1"]
    r = client.post(f"/api/v1/deliveries/{delivery['id']}/retry", headers=AUTH)
    assert r.status_code == 200, r.text
    manual = r.json()["attempts"][-1]
    assert (manual["trigger"], manual["succeeded"], manual["response"]["status"]) == ("manual", False, None)
    assert manual["error"] == "target refused: fe80::1 is link-local (always refused)"
    assert len(receiver.received) == 1
