"""The native API end to end over HTTP, on SQLite and PostgreSQL: create, approve, capture, settle,
refund, fail, expire, cancel; lists, events, balance, ledger and idempotency."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from kasse.engine.unit import Kasse
from tests.conftest import AUTH
from tests.helpers import assert_ledger_invariants
from tests.test_api_support import (
    DAY_S,
    KLARNA_MANUAL,
    SOFORT,
    advance,
    approve,
    assert_error,
    balance,
    bearer,
    capture,
    create,
    eur,
    event_types,
    get_payment,
    get_refund,
    ids,
    listing,
    new_merchant,
    refund,
    walk,
)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _invariants(kasse: Kasse, merchant_id: str = "mer_sandbox") -> None:
    with kasse.read() as store:
        assert_ledger_invariants(store, merchant_id)


# --- create and read ----------------------------------------------------------------------------------


def test_create_answers_the_payment_with_a_redirect(client: TestClient) -> None:
    body = {
        "amount": 2599,
        "currency": "EUR",
        "method": "sofort",
        "country": "DE",
        "description": "Order 4711",
        "reference": "4711",
        "return_url": "https://shop.example/return?order=4711",
        "cancel_url": "http://shop.example/cancel",
        "customer": {"name": "Erika Mustermann", "email": "erika@example.com", "locale": "de-DE"},
        "metadata": {"order_id": "4711", "channel": "web"},
    }
    r = client.post("/api/v1/payments", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers
    p = r.json()
    assert p["id"].startswith("pay_")
    assert p["object"] == "payment" and p["livemode"] is False
    for field in ("amount", "currency", "method", "country", "description", "reference", "return_url", "cancel_url"):
        assert p[field] == body[field], field
    assert p["customer"] == body["customer"]
    assert p["metadata"] == body["metadata"]
    assert p["status"] == "requires_action"
    assert p["capture"] == "automatic"
    assert p["next_action"]["type"] == "redirect"
    base = client.app.state.settings.base_url  # type: ignore[attr-defined]
    assert p["next_action"]["redirect_url"].startswith(f"{base}/pay/")
    assert (p["amount_capturable"], p["amount_captured"], p["amount_settled"], p["amount_refunded"]) == (0, 0, 0, 0)
    assert p["failure"] is None and p["cancellation_reason"] is None and p["authorized_at"] is None
    # expires_in defaults to one day, on the merchant's clock.
    assert _ts(p["expires_at"]) - _ts(p["created_at"]) == timedelta(days=1)
    assert get_payment(client, p["id"]) == p
    assert ids(listing(client, "/api/v1/payments")) == [p["id"]]
    assert event_types(client) == ["payment.created"]


def test_each_method_can_be_created(client: TestClient) -> None:
    cases = [
        ("sofort", "AT", "EUR"),
        ("sofort", "CH", "CHF"),
        ("klarna_pay_now", "SE", "SEK"),
        ("klarna_pay_later", "GB", "GBP"),
        ("klarna_slice_it", "US", "USD"),
        ("klarna_direct_debit", "DE", "EUR"),
    ]
    for method, country, currency in cases:
        p = create(client, method=method, country=country, currency=currency)
        assert (p["method"], p["country"], p["currency"], p["status"]) == (method, country, currency, "requires_action")
    assert len(listing(client, "/api/v1/payments", limit=100)["data"]) == len(cases)


# --- lifecycles ---------------------------------------------------------------------------------------


def test_sofort_approve_settle_succeeds_and_fills_the_balance(client: TestClient, kasse: Kasse) -> None:
    p = create(client)
    approved = approve(client, p["id"])
    # Sofort captures with the authorization: straight on to processing.
    assert approved["status"] == "processing"
    assert approved["next_action"] is None
    assert approved["amount_captured"] == 1000 and approved["amount_capturable"] == 0
    assert approved["authorized_at"] is not None
    assert balance(client) == {"available": {"EUR": 0}, "pending": {"EUR": 1000}}
    _invariants(kasse)

    # Two days later the bank transfer is credited.
    clock = advance(client, 1 * DAY_S)
    assert get_payment(client, p["id"])["status"] == "processing"
    assert not [f for f in clock["fired"] if f["kind"] == "capture_settlement"]
    clock = advance(client, 2 * DAY_S)
    assert [f["kind"] for f in clock["fired"]] == ["capture_settlement"]
    done = get_payment(client, p["id"])
    assert done["status"] == "succeeded"
    assert done["amount_settled"] == 1000
    assert balance(client) == {"available": {"EUR": 1000}, "pending": {"EUR": 0}}
    captures = listing(client, f"/api/v1/payments/{p['id']}/captures")["data"]
    assert [(c["amount"], c["status"], c["final"], c["sequence"]) for c in captures] == [(1000, "succeeded", True, 1)]
    _invariants(kasse)


def test_sandbox_scenario_approves_at_creation(client: TestClient, kasse: Kasse) -> None:
    p = create(client, sandbox={"approval": "approve"})
    assert p["status"] == "processing"
    assert p["next_action"] is None
    declined = create(client, sandbox={"approval": "decline"})
    assert declined["status"] == "failed"
    assert declined["failure"]["code"] == "bank_declined"
    advance(client, 3 * DAY_S)
    assert get_payment(client, p["id"])["status"] == "succeeded"
    assert get_payment(client, declined["id"])["status"] == "failed"
    _invariants(kasse)


def test_manual_capture_in_two_parts(client: TestClient, kasse: Kasse) -> None:
    p = create(client, **KLARNA_MANUAL)
    authorized = approve(client, p["id"])
    assert authorized["status"] == "authorized"
    assert authorized["amount_capturable"] == 1000 and authorized["amount_captured"] == 0
    assert balance(client) == {"available": {"EUR": 0}, "pending": {"EUR": 0}}
    _invariants(kasse)

    first = capture(client, p["id"], amount=400, final=False)
    assert first["status"] == "processing"
    assert (first["amount_captured"], first["amount_capturable"]) == (400, 600)
    assert balance(client)["pending"] == {"EUR": 400}
    _invariants(kasse)

    rest = capture(client, p["id"])
    assert rest["status"] == "processing"
    assert (rest["amount_captured"], rest["amount_capturable"]) == (1000, 0)
    captures = listing(client, f"/api/v1/payments/{p['id']}/captures")["data"]
    assert [(c["amount"], c["final"], c["sequence"], c["status"]) for c in captures] == [
        (400, False, 1, "pending"),
        (600, True, 2, "pending"),
    ]
    _invariants(kasse)

    advance(client, DAY_S)  # Klarna pays out after a day
    done = get_payment(client, p["id"])
    assert done["status"] == "succeeded"
    assert done["amount_settled"] == 1000
    assert balance(client) == {"available": {"EUR": 1000}, "pending": {"EUR": 0}}
    assert event_types(client) == [
        "payment.created",
        "payment.authorized",
        "payment.processing",
        "capture.created",
        "capture.created",
        "capture.succeeded",
        "capture.succeeded",
        "payment.succeeded",
    ]
    _invariants(kasse)


def test_final_partial_capture_releases_the_rest(client: TestClient, kasse: Kasse) -> None:
    p = create(client, **KLARNA_MANUAL)
    approve(client, p["id"])
    captured = capture(client, p["id"], amount=250)
    assert (captured["amount_captured"], captured["amount_capturable"]) == (250, 0)
    assert_error(
        client.post(f"/api/v1/payments/{p['id']}/capture", json={"amount": 1}, headers=AUTH),
        409,
        "nothing_to_capture",
    )
    advance(client, DAY_S)
    done = get_payment(client, p["id"])
    assert (done["status"], done["amount_settled"]) == ("succeeded", 250)
    assert balance(client) == {"available": {"EUR": 250}, "pending": {"EUR": 0}}
    _invariants(kasse)


def test_part_captured_payment_succeeds_and_the_rest_is_captured_later(client: TestClient, kasse: Kasse) -> None:
    p = create(client, **KLARNA_MANUAL)
    approve(client, p["id"])
    capture(client, p["id"], amount=400, final=False)
    # Only what was captured can be refunded, and a payment with money in transit cannot be voided.
    r = client.post(f"/api/v1/payments/{p['id']}/refunds", json={"amount": 401}, headers=AUTH)
    assert_error(r, 400, "amount_too_large", "amount")
    assert_error(client.post(f"/api/v1/payments/{p['id']}/cancel", headers=AUTH), 409, "invalid_state")

    advance(client, DAY_S)
    settled = get_payment(client, p["id"])
    assert (settled["status"], settled["amount_settled"], settled["amount_capturable"]) == ("succeeded", 400, 600)
    assert balance(client) == {"available": {"EUR": 400}, "pending": {"EUR": 0}}
    _invariants(kasse)

    rest = capture(client, p["id"])
    assert (rest["status"], rest["amount_captured"], rest["amount_capturable"]) == ("succeeded", 1000, 0)
    assert balance(client) == {"available": {"EUR": 400}, "pending": {"EUR": 600}}
    _invariants(kasse)
    advance(client, DAY_S)
    done = get_payment(client, p["id"])
    assert (done["status"], done["amount_settled"]) == ("succeeded", 1000)
    assert balance(client) == {"available": {"EUR": 1000}, "pending": {"EUR": 0}}
    assert event_types(client, type="payment.*") == [
        "payment.created",
        "payment.authorized",
        "payment.processing",
        "payment.succeeded",
    ]
    _invariants(kasse)


def test_unused_rest_of_a_part_captured_authorization_is_released(client: TestClient, kasse: Kasse) -> None:
    p = create(client, **KLARNA_MANUAL)
    approve(client, p["id"])
    capture(client, p["id"], amount=300, final=False)
    fired = advance(client, 8 * DAY_S)["fired"]
    assert [f["kind"] for f in fired if f["subject"] == p["id"]] == ["payment_expiry", "authorization_expiry"]
    done = get_payment(client, p["id"])
    assert (done["status"], done["amount_captured"], done["amount_settled"], done["amount_capturable"]) == (
        "succeeded",
        300,
        300,
        0,
    )
    assert_error(client.post(f"/api/v1/payments/{p['id']}/capture", headers=AUTH), 409, "nothing_to_capture")
    assert balance(client) == {"available": {"EUR": 300}, "pending": {"EUR": 0}}
    _invariants(kasse)


def test_refund_while_processing_waits_for_the_money(client: TestClient, kasse: Kasse) -> None:
    p = create(client)
    approve(client, p["id"])
    waiting = refund(client, p["id"], amount=300, reason="requested_by_customer", metadata={"ticket": "T-1"})
    assert waiting["id"].startswith("rfd_")
    assert (waiting["object"], waiting["payment_id"], waiting["amount"], waiting["currency"]) == (
        "refund",
        p["id"],
        300,
        "EUR",
    )
    assert waiting["status"] == "pending"
    assert waiting["reason"] == "requested_by_customer" and waiting["metadata"] == {"ticket": "T-1"}
    assert get_payment(client, p["id"])["amount_refunded"] == 300
    assert balance(client) == {"available": {"EUR": 0}, "pending": {"EUR": 1000}}
    _invariants(kasse)

    advance(client, 3 * DAY_S)
    assert get_refund(client, waiting["id"])["status"] == "succeeded"
    done = get_payment(client, p["id"])
    assert (done["status"], done["amount_settled"], done["amount_refunded"]) == ("succeeded", 1000, 300)
    assert balance(client) == {"available": {"EUR": 700}, "pending": {"EUR": 0}}
    _invariants(kasse)

    # On a succeeded payment a refund is performed at once; the rest is refundable, then nothing.
    rest = refund(client, p["id"])
    assert (rest["amount"], rest["status"]) == (700, "succeeded")
    assert balance(client)["available"] == {"EUR": 0}
    assert_error(client.post(f"/api/v1/payments/{p['id']}/refunds", headers=AUTH), 409, "already_refunded")
    listed = listing(client, f"/api/v1/payments/{p['id']}/refunds")["data"]
    assert sorted((r["amount"], r["status"]) for r in listed) == [(300, "succeeded"), (700, "succeeded")]
    assert event_types(client, type="refund.*") == [
        "refund.created",
        "refund.succeeded",
        "refund.created",
        "refund.succeeded",
    ]
    _invariants(kasse)


def test_settlement_failure_fails_the_payment_and_cancels_its_refund(client: TestClient, kasse: Kasse) -> None:
    p = create(client, sandbox={"settlement": "fail"})
    assert approve(client, p["id"])["status"] == "processing"
    waiting = refund(client, p["id"], amount=500)
    assert waiting["status"] == "pending"

    advance(client, 3 * DAY_S)
    failed = get_payment(client, p["id"])
    assert failed["status"] == "failed"
    assert failed["failure"]["code"] == "settlement_failed"
    assert (failed["amount_captured"], failed["amount_settled"], failed["amount_refunded"]) == (0, 0, 0)
    canceled = get_refund(client, waiting["id"])
    assert canceled["status"] == "canceled"
    assert canceled["failure_reason"] == "payment_failed"
    assert balance(client) == {"available": {"EUR": 0}, "pending": {"EUR": 0}}
    types = event_types(client)
    assert types[-3:] == ["capture.failed", "payment.failed", "refund.canceled"]
    assert_error(client.post(f"/api/v1/payments/{p['id']}/refunds", headers=AUTH), 409, "payment_not_refundable")
    _invariants(kasse)


def test_unfinished_payment_expires_after_one_day(client: TestClient, kasse: Kasse) -> None:
    p = create(client)
    clock = advance(client, DAY_S - 1)
    assert clock["fired"] == []
    assert get_payment(client, p["id"])["status"] == "requires_action"

    clock = advance(client, 2)
    assert [(f["kind"], f["subject"], f["due_at"]) for f in clock["fired"]] == [
        ("payment_expiry", p["id"], p["expires_at"])
    ]
    expired = get_payment(client, p["id"])
    assert expired["status"] == "expired"
    assert expired["next_action"] is None
    assert event_types(client) == ["payment.created", "payment.expired"]
    # An expired payment is final.
    assert_error(client.post(f"/_sandbox/payments/{p['id']}/approve", headers=AUTH), 409, "invalid_state")
    assert advance(client, DAY_S)["fired"] == []
    _invariants(kasse)


def test_custom_expires_in(client: TestClient) -> None:
    p = create(client, expires_in=600)
    assert _ts(p["expires_at"]) - _ts(p["created_at"]) == timedelta(seconds=600)
    assert advance(client, 599)["fired"] == []
    assert get_payment(client, p["id"])["status"] == "requires_action"
    fired = advance(client, 2)["fired"]
    assert [(f["kind"], f["subject"]) for f in fired] == [("payment_expiry", p["id"])]
    assert get_payment(client, p["id"])["status"] == "expired"


def test_unused_authorization_expires_and_releases_the_hold(client: TestClient, kasse: Kasse) -> None:
    p = create(client, **KLARNA_MANUAL)
    approve(client, p["id"])
    advance(client, 7 * DAY_S - 60)
    assert get_payment(client, p["id"])["status"] == "authorized"
    fired = advance(client, 120)["fired"]
    assert [(f["kind"], f["subject"]) for f in fired] == [("authorization_expiry", p["id"])]
    expired = get_payment(client, p["id"])
    assert (expired["status"], expired["amount_capturable"], expired["amount_captured"]) == ("expired", 0, 0)
    assert eur(client) == (0, 0)
    _invariants(kasse)


def test_decline_through_the_sandbox(client: TestClient, kasse: Kasse) -> None:
    p = create(client, method="klarna_pay_now", country="DE")
    r = client.post(f"/_sandbox/payments/{p['id']}/decline", headers=AUTH)
    assert r.status_code == 200, r.text
    failed = r.json()
    assert failed["status"] == "failed"
    assert failed["failure"]["code"] == "bank_declined" and failed["failure"]["message"]
    assert get_payment(client, p["id"]) == failed

    other = create(client)
    r = client.post(
        f"/_sandbox/payments/{other['id']}/decline",
        json={"code": "insufficient_funds", "message": "Not enough money"},
        headers=AUTH,
    )
    assert r.status_code == 200, r.text
    assert r.json()["failure"] == {"code": "insufficient_funds", "message": "Not enough money"}
    assert event_types(client, payment_id=p["id"]) == ["payment.created", "payment.failed"]
    assert listing(client, "/api/v1/ledger/transfers")["data"] == []
    _invariants(kasse)


def test_merchant_cancels_before_and_after_authorization(client: TestClient, kasse: Kasse) -> None:
    unfinished = create(client)
    r = client.post(f"/api/v1/payments/{unfinished['id']}/cancel", headers=AUTH)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["cancellation_reason"]) == ("canceled", "requested_by_merchant")
    assert r.json()["next_action"] is None

    authorized = create(client, **KLARNA_MANUAL)
    approve(client, authorized["id"])
    r = client.post(f"/api/v1/payments/{authorized['id']}/cancel", json={"reason": "out_of_stock"}, headers=AUTH)
    assert r.status_code == 200, r.text
    voided = r.json()
    assert (voided["status"], voided["cancellation_reason"], voided["amount_capturable"]) == (
        "canceled",
        "out_of_stock",
        0,
    )
    assert eur(client) == (0, 0)
    assert event_types(client, payment_id=authorized["id"]) == [
        "payment.created",
        "payment.authorized",
        "payment.canceled",
    ]
    # Nothing fires later for a canceled payment.
    fired = advance(client, 8 * DAY_S)["fired"]
    assert {f["kind"] for f in fired} <= {"payment_expiry", "authorization_expiry"}
    assert get_payment(client, authorized["id"])["status"] == "canceled"
    assert get_payment(client, unfinished["id"])["status"] == "canceled"
    _invariants(kasse)


# --- events -------------------------------------------------------------------------------------------


def test_events_record_the_lifecycle_in_order(client: TestClient) -> None:
    p = create(client)
    approve(client, p["id"])
    advance(client, 3 * DAY_S)
    lifecycle = [
        "payment.created",
        "payment.authorized",
        "payment.processing",
        "capture.created",
        "capture.succeeded",
        "payment.succeeded",
    ]
    assert event_types(client) == lifecycle

    everything = listing(client, "/api/v1/events", limit=100)
    assert everything["has_more"] is False and everything["url"] == "/api/v1/events"
    all_ids = ids(everything)
    assert all_ids == sorted(all_ids, reverse=True)  # newest first
    assert walk(client, "/api/v1/events", limit=4) == all_ids
    assert walk(client, "/api/v1/events", limit=1) == all_ids

    # ending_before pages back towards the newest.
    page = listing(client, "/api/v1/events", limit=2, ending_before=all_ids[3])
    assert (ids(page), page["has_more"]) == (all_ids[1:3], True)
    page = listing(client, "/api/v1/events", limit=2, ending_before=all_ids[1])
    assert (ids(page), page["has_more"]) == (all_ids[:1], False)

    # Filters: a type with a wildcard, one payment.
    assert event_types(client, type="capture.*") == ["capture.created", "capture.succeeded"]
    assert event_types(client, type="payment.succeeded") == ["payment.succeeded"]
    assert event_types(client, payment_id=p["id"]) == lifecycle
    assert event_types(client, payment_id="pay_unknown") == []

    # Each event carries the object as it was at that moment.
    first = everything["data"][-1]
    r = client.get(f"/api/v1/events/{first['id']}", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json() == first
    assert first["object"] == "event" and first["type"] == "payment.created"
    assert first["data"]["object"]["id"] == p["id"]
    assert first["data"]["object"]["status"] == "requires_action"
    last = everything["data"][0]
    assert last["data"]["object"]["status"] == "succeeded"
    capture_event = next(e for e in everything["data"] if e["type"] == "capture.created")
    assert capture_event["data"]["object"]["object"] == "capture"
    assert capture_event["data"]["object"]["payment_id"] == p["id"]
    assert_error(client.get("/api/v1/events/evt_missing", headers=AUTH), 404, "resource_missing", "id")


# --- lists --------------------------------------------------------------------------------------------


def test_payments_list_pages_and_filters(client: TestClient) -> None:
    early = [create(client, amount=100 + i)["id"] for i in range(3)]
    advance(client, 3600)
    late = [create(client, amount=200 + i)["id"] for i in range(4)]
    approve(client, late[0])
    approve(client, early[1])

    everything = listing(client, "/api/v1/payments", limit=100)
    assert everything["url"] == "/api/v1/payments"
    assert ids(everything) == list(reversed(early + late))
    assert listing(client, "/api/v1/payments")["has_more"] is False  # default limit 10

    first = listing(client, "/api/v1/payments", limit=3)
    assert (ids(first), first["has_more"]) == (ids(everything)[:3], True)
    assert walk(client, "/api/v1/payments", limit=3) == ids(everything)
    assert walk(client, "/api/v1/payments", limit=7) == ids(everything)
    last = listing(client, "/api/v1/payments", limit=3, starting_after=early[1])
    assert (ids(last), last["has_more"]) == ([early[0]], False)
    back = listing(client, "/api/v1/payments", limit=2, ending_before=early[2])
    assert (ids(back), back["has_more"]) == ([late[1], late[0]], True)

    assert set(ids(listing(client, "/api/v1/payments", status="processing"))) == {late[0], early[1]}
    assert len(ids(listing(client, "/api/v1/payments", status="requires_action"))) == 5
    assert ids(listing(client, "/api/v1/payments", status="succeeded")) == []
    assert walk(client, "/api/v1/payments", limit=2, status="requires_action") == [
        i for i in ids(everything) if i not in (late[0], early[1])
    ]

    created = {p["id"]: _ts(p["created_at"]) for p in everything["data"]}
    split = created[early[0]] + timedelta(seconds=1800)
    iso = split.isoformat().replace("+00:00", "Z")
    assert set(ids(listing(client, "/api/v1/payments", created_gte=iso))) == set(late)
    assert set(ids(listing(client, "/api/v1/payments", created_lt=iso))) == set(early)
    unix = str(int(split.timestamp()))
    assert set(ids(listing(client, "/api/v1/payments", created_gte=unix))) == set(late)
    exact = created[late[0]].isoformat()
    assert set(ids(listing(client, "/api/v1/payments", created_gte=exact, created_lt=exact))) == set()
    assert set(ids(listing(client, "/api/v1/payments", created_gte=exact))) == set(late)


def test_ledger_transfers_balance_and_page(client: TestClient, kasse: Kasse) -> None:
    p = create(client)
    approve(client, p["id"])
    advance(client, 3 * DAY_S)
    refund(client, p["id"], amount=100)
    other = create(client, amount=500, currency="CHF", country="CH")
    approve(client, other["id"])

    everything = listing(client, "/api/v1/ledger/transfers", limit=100)
    transfers = everything["data"]
    assert transfers
    for t in transfers:
        assert t["id"].startswith("tr_") and t["object"] == "ledger_transfer"
        assert sum(leg["amount"] for leg in t["legs"]) == 0, t
        assert len(t["legs"]) >= 2
    assert {t["currency"] for t in transfers} == {"EUR", "CHF"}
    mine = [t for t in reversed(transfers) if t["payment_id"] == p["id"]]
    assert [t["code"] for t in mine] == ["authorization", "capture", "settlement", "refund"]
    assert [t["kind"] for t in mine][:2] == ["pending", "post"]
    assert mine[1]["pending_id"] == mine[0]["id"]  # the capture resolves the authorization hold
    assert mine[3]["refund_id"] is not None

    assert walk(client, "/api/v1/ledger/transfers", limit=2) == ids(everything)
    assert ids(listing(client, "/api/v1/ledger/transfers", limit=100, payment_id=p["id"])) == [
        t["id"] for t in reversed(mine)
    ]
    assert balance(client) == {"available": {"CHF": 0, "EUR": 900}, "pending": {"CHF": 500, "EUR": 0}}
    _invariants(kasse)


# --- idempotency --------------------------------------------------------------------------------------


def test_idempotent_create_replays_the_first_answer(client: TestClient) -> None:
    headers = {**AUTH, "Idempotency-Key": "order-4711"}
    first = client.post("/api/v1/payments", json=SOFORT, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = client.post("/api/v1/payments", json=SOFORT, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(listing(client, "/api/v1/payments")["data"]) == 1
    assert event_types(client) == ["payment.created"]

    # Replayed even after the payment moved on: the stored answer, not the current state.
    approve(client, first.json()["id"])
    replay = client.post("/api/v1/payments", json=SOFORT, headers=headers)
    assert replay.json()["status"] == "requires_action"

    changed = client.post("/api/v1/payments", json={**SOFORT, "amount": 1001}, headers=headers)
    assert_error(changed, 422, "idempotency_key_reused")
    assert changed.json()["error"]["type"] == "idempotency_error"
    # The same key on another endpoint is another request too.
    other = client.post(f"/api/v1/payments/{first.json()['id']}/cancel", headers=headers)
    assert_error(other, 422, "idempotency_key_reused")
    assert len(listing(client, "/api/v1/payments")["data"]) == 1


def test_idempotency_keys_are_scoped_per_merchant(client: TestClient) -> None:
    second = new_merchant(client)
    key = {"Idempotency-Key": "shared-key"}
    mine = client.post("/api/v1/payments", json=SOFORT, headers={**AUTH, **key})
    theirs = client.post(
        "/api/v1/payments", json={**SOFORT, "amount": 5}, headers={**bearer(second["secret_key"]), **key}
    )
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["amount"] == 5
    assert ids(listing(client, "/api/v1/payments", bearer(second["secret_key"]))) == [theirs.json()["id"]]
    assert ids(listing(client, "/api/v1/payments")) == [mine.json()["id"]]


def test_idempotent_capture_and_refund(client: TestClient, kasse: Kasse) -> None:
    p = create(client, **KLARNA_MANUAL)
    approve(client, p["id"])
    headers = {**AUTH, "Idempotency-Key": "capture-1"}
    body = {"amount": 300, "final": False}
    first = client.post(f"/api/v1/payments/{p['id']}/capture", json=body, headers=headers)
    again = client.post(f"/api/v1/payments/{p['id']}/capture", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(listing(client, f"/api/v1/payments/{p['id']}/captures")["data"]) == 1
    assert get_payment(client, p["id"])["amount_captured"] == 300

    headers = {**AUTH, "Idempotency-Key": "refund-1"}
    r1 = client.post(f"/api/v1/payments/{p['id']}/refunds", json={"amount": 100}, headers=headers)
    r2 = client.post(f"/api/v1/payments/{p['id']}/refunds", json={"amount": 100}, headers=headers)
    assert r1.status_code == r2.status_code == 201
    assert r2.json()["id"] == r1.json()["id"]
    assert len(listing(client, f"/api/v1/payments/{p['id']}/refunds")["data"]) == 1
    assert get_payment(client, p["id"])["amount_refunded"] == 100
    _invariants(kasse)


def test_a_rejected_request_does_not_use_up_its_key(client: TestClient) -> None:
    headers = {**AUTH, "Idempotency-Key": "retry-me"}
    refused = client.post("/api/v1/payments", json={**SOFORT, "currency": "USD"}, headers=headers)
    assert_error(refused, 400, "currency_not_supported", "currency")
    ok = client.post("/api/v1/payments", json=SOFORT, headers=headers)
    assert ok.status_code == 201, ok.text
    assert "idempotent-replayed" not in ok.headers
