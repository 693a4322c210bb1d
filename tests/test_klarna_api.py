"""The Klarna dialect over HTTP, on SQLite and PostgreSQL, driven as clients.md §7.5 drives it: the seed's
authorize request verbatim, the step-up and the final authorization, idempotent replays (by token and by
``Klarna-Idempotency-Key``), the 60-minute token on the merchant's clock, the denied sample customer,
captures and refunds up to their limits, void, expiry, and the ledger balanced after every flow."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kasse.config import Settings
from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from kasse.web.app import create_app
from tests.helpers import DAY_S, FakeWall, advance_clock, check, dump
from tests.klarna_support import ACCOUNT, APPROVED, DENIED, HEADERS, HEADERS_B64, Klarna, klarna_kasse

SEED_BODY = {
    "currency": "USD",
    "request_payment_transaction": {
        "amount": 11800,
        "payment_transaction_reference": "acquiring-partner-transaction-reference-1234",
    },
}
RETURN = "https://shop.example/return?id={klarna.payment_request.id}&token={klarna.payment_request.payment_token}"


@dataclass
class Env:
    klarna: Klarna
    kasse: Kasse
    merchant_id: str = "mer_sandbox"

    def advance(self, seconds: float) -> None:
        advance_clock(self.kasse, merchant_id=self.merchant_id, seconds=seconds)

    def approved_request(self, amount: int = 11800, currency: str = "USD", **extra: Any) -> dict[str, Any]:
        """A payment request the customer approved: its tokens in ``state_context``."""
        body = {"currency": currency, "amount": amount, **extra}
        created = self.klarna.post(f"/v2/accounts/{ACCOUNT}/payment/requests", body)
        assert created.status_code == 201, created.text
        return self.klarna.approve(created.json()["payment_request_id"])

    def transaction(self, amount: int = 10000, capture: str = "LATER") -> str:
        request = self.approved_request(amount, "EUR")
        body = {"currency": "EUR", "request_payment_transaction": {"amount": amount, "capture": capture}}
        r = self.klarna.authorize(body, **{"Klarna-Network-Session-Token": _tokens(request)[0]})
        assert r.status_code == 200, r.text
        return str(r.json()["payment_transaction_response"]["payment_transaction"]["payment_transaction_id"])


@pytest.fixture
def env(database: Database, wall: FakeWall) -> Iterator[Env]:
    kasse = klarna_kasse(database, wall=wall)
    app = create_app(Settings(database_url=database.url, run_workers=False), kasse=kasse)
    with TestClient(app) as client:
        yield Env(Klarna("http://testserver", client), kasse)
    check(kasse)  # the ledger balances and every object agrees with it, after every test


def _tokens(request: dict[str, Any]) -> tuple[str, str]:
    context = request["state_context"]
    return context["klarna_network_session_token"], context["payment_token"]


def _result(r: Any) -> str:
    assert r.status_code == 200, r.text
    return str(r.json()["payment_transaction_response"]["result"])


def test_the_seeds_authorize_request_verbatim(env: Env) -> None:
    request = env.approved_request()
    session, payment_token = _tokens(request)
    assert session.startswith("krn:payment:eu1:klarna-network-session-token:")
    assert payment_token.startswith("krn:payment:eu1:payment-token:")
    r = env.klarna.authorize(SEED_BODY, **{"Klarna-Payment-Token": payment_token})
    assert _result(r) == "APPROVED"
    transaction = r.json()["payment_transaction_response"]["payment_transaction"]
    assert transaction["payment_transaction_id"].startswith("krn:payment:eu1:transaction:")
    assert transaction["payment_transaction_reference"] == "acquiring-partner-transaction-reference-1234"
    assert (transaction["amount"], transaction["currency"]) == (11800, "USD")
    assert {"payment_funding", "payment_pricing", "expires_at"} <= set(transaction)
    assert "payment_captures" not in transaction  # capture LATER by default
    # Idempotent by token: the same answer every time, with either token of the request, and no second
    # transaction.
    assert env.klarna.authorize(SEED_BODY, **{"Klarna-Payment-Token": payment_token}).json() == r.json()
    assert env.klarna.authorize(SEED_BODY, **{"Klarna-Network-Session-Token": session}).json() == r.json()
    read = env.klarna.call("GET", f"/v2/payment/transactions/{transaction['payment_transaction_id']}")
    assert (read.json()["state"], read.json()["authorized_amount"]) == ("AUTHORIZED", 11800)
    with env.kasse.read() as store:
        assert len(store.list_payments(merchant_id=env.merchant_id, limit=10).items) == 1


def test_clients_md_flow_step_up_then_final_authorization_with_one_key(env: Env) -> None:
    """clients.md §7.5 sends the same Klarna-Idempotency-Key for the step-up and for the final call."""
    key = {"Klarna-Idempotency-Key": str(uuid.uuid4())}
    body = {
        "currency": "EUR",
        "request_payment_transaction": {"amount": 1000, "payment_transaction_reference": "ord-1"},
        "step_up_config": {
            "payment_request_reference": "pr-1",
            "customer_interaction_config": {"method": "HANDOVER", "return_url": "http://shop/ret"},
        },
    }
    r1 = env.klarna.authorize(body, **key)
    assert _result(r1) == "STEP_UP_REQUIRED"
    request = r1.json()["payment_request"]
    assert (request["state"], request["payment_request_reference"], request["amount"]) == ("SUBMITTED", "pr-1", 1000)
    url = request["state_context"]["customer_interaction"]["payment_request_url"]
    assert "/klarna/journey/" in url
    assert env.klarna.authorize(body, **key).json() == r1.json()  # a retry of the step-up call
    token = _tokens(env.klarna.approve(request["payment_request_id"]))[1]
    final = {k: body[k] for k in ("currency", "request_payment_transaction")}
    r2 = env.klarna.authorize(final, **key, **{"Klarna-Payment-Token": token})
    assert _result(r2) == "APPROVED"


def test_the_same_idempotency_key_replays_the_first_answer_whatever_the_body(env: Env) -> None:
    tid = env.transaction(10000)
    key = {"Klarna-Idempotency-Key": "capture-1"}
    first = env.klarna.post(f"/v2/payment/transactions/{tid}/captures", {"amount": 1000}, **key)
    again = env.klarna.post(f"/v2/payment/transactions/{tid}/captures", {"amount": 2500}, **key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert env.klarna.call("GET", f"/v2/payment/transactions/{tid}").json()["captured_amount"] == 1000
    env.advance(DAY_S + 1)  # kept 24 hours: then the key names a new request
    later = env.klarna.post(f"/v2/payment/transactions/{tid}/captures", {"amount": 2500}, **key)
    assert later.status_code == 201 and later.json()["payment_capture_id"].endswith(":capture:2")


def test_the_token_is_refused_after_60_minutes_on_the_merchants_clock(env: Env) -> None:
    early, late = env.approved_request(), env.approved_request()
    env.advance(59 * 60)
    assert _result(env.klarna.authorize(SEED_BODY, **{"Klarna-Payment-Token": _tokens(early)[1]})) == "APPROVED"
    env.advance(60)
    before = dump(env.kasse)
    r = env.klarna.authorize(SEED_BODY, **{"Klarna-Payment-Token": _tokens(late)[1]})
    assert r.status_code == 403 and r.json()["error_code"] == "OPERATION_FORBIDDEN"
    assert "expired" in r.json()["error_message"]
    assert dump(env.kasse) == before
    # A used token keeps answering what it answered.
    assert _result(env.klarna.authorize(SEED_BODY, **{"Klarna-Payment-Token": _tokens(early)[1]})) == "APPROVED"


def test_the_amount_must_be_what_the_customer_approved(env: Env) -> None:
    token = _tokens(env.approved_request())[1]
    before = dump(env.kasse)
    body = {**SEED_BODY, "request_payment_transaction": {"amount": 11801}}
    r = env.klarna.authorize(body, **{"Klarna-Payment-Token": token})
    assert r.status_code == 400 and r.json()["error_type"] == "INPUT_ERROR"
    assert [v["parameter"] for v in r.json()["validation_errors"]] == ["request_payment_transaction.amount"]
    wrong_currency = env.klarna.authorize({**SEED_BODY, "currency": "EUR"}, **{"Klarna-Payment-Token": token})
    assert wrong_currency.json()["validation_errors"][0]["parameter"] == "currency"
    assert dump(env.kasse) == before
    assert _result(env.klarna.authorize(SEED_BODY, **{"Klarna-Payment-Token": token})) == "APPROVED"


def test_the_denied_sample_customer_is_declined(env: Env) -> None:
    answer = env.klarna.step_up(2000, "https://shop.example/r", email=DENIED)
    request_id = answer["payment_request"]["payment_request_id"]
    declined = env.klarna.approve(request_id)
    assert (declined["state"], declined["state_reason"]) == ("DECLINED", "PERMANENT")
    assert "payment_token" not in declined["state_context"]
    read = env.klarna.call("GET", f"/v2/payment/requests/{request_id}").json()
    assert (read["state"], read["previous_state"]) == ("DECLINED", "IN_PROGRESS")
    # The approved sample customer of the same country is approved.
    approved = env.klarna.approve(
        env.klarna.step_up(2000, "https://x.example/r", email=APPROVED)["payment_request"]["payment_request_id"]
    )
    assert approved["state"] == "COMPLETED"


def test_without_a_token_or_a_step_up_config_the_answer_is_declined(env: Env) -> None:
    before = dump(env.kasse)
    r = env.klarna.authorize({"currency": "EUR", "request_payment_transaction": {"amount": 1000}})
    assert r.json() == {
        "payment_transaction_response": {"result": "DECLINED", "result_reason": "CUSTOMER_ACTION_REQUIRED"}
    }
    assert {k: v for k, v in dump(env.kasse).items() if k != "idempotency_keys"} == {
        k: v for k, v in before.items() if k != "idempotency_keys"
    }


def test_capture_now_completes_the_transaction(env: Env) -> None:
    tid = env.transaction(5000, capture="NOW")
    read = env.klarna.call("GET", f"/v2/accounts/{ACCOUNT}/payment/transactions/{tid}").json()
    assert (read["state"], read["captured_amount"], len(read["payment_captures"])) == ("COMPLETED", 5000, 1)


def test_captures_and_refunds_within_their_limits(env: Env) -> None:
    tid = env.transaction(10000)
    base = f"/v2/payment/transactions/{tid}"
    first = env.klarna.post(base + "/captures", {"amount": 3000, "payment_capture_reference": "ship-1"})
    assert first.status_code == 201 and first.json()["payment_capture_reference"] == "ship-1"
    assert env.klarna.post(base + "/captures", {"amount": 3000}).status_code == 201
    over = env.klarna.post(base + "/captures", {"amount": 4001})
    assert (over.status_code, over.json()["error_code"]) == (403, "OPERATION_FORBIDDEN")
    capture_id = first.json()["payment_capture_id"]
    assert capture_id == f"{tid}:capture:1"
    too_much = env.klarna.post(f"{base}/captures/{capture_id}/refunds", {"amount": 3001})
    assert too_much.status_code == 403
    refund = env.klarna.post(f"{base}/captures/{capture_id}/refunds", {"amount": 3000})
    assert refund.status_code == 201 and refund.json()["payment_refund_id"] == f"{tid}:refund:1"
    assert env.klarna.post(f"{base}/captures/{capture_id}/refunds", {"amount": 1}).status_code == 403
    assert env.klarna.post(base + "/refunds", {"amount": 3001}).status_code == 403  # 6000 captured, 3000 back
    assert env.klarna.post(base + "/refunds", {"amount": 3000}).status_code == 201
    assert env.klarna.post(base + "/refunds", {"amount": 1}).status_code == 403
    read = env.klarna.call("GET", base).json()
    assert (read["state"], read["authorized_amount"], read["refunded_amount"]) == ("AUTHORIZED", 4000, 6000)
    voided = env.klarna.post(base + "/void")
    assert (voided.json()["state"], voided.json()["authorized_amount"]) == ("COMPLETED", 0)
    assert env.klarna.post(base + "/captures", {"amount": 1}).status_code == 403
    env.advance(2 * DAY_S)  # the captures settle, the waiting refunds are performed
    assert [r["state"] for r in env.klarna.call("GET", base).json()["payment_refunds"]] == ["COMPLETED"] * 2


def test_void_without_captures_closes_the_transaction(env: Env) -> None:
    tid = env.transaction(2500)
    voided = env.klarna.post(f"/v2/payment/transactions/{tid}/void")
    assert voided.status_code == 200 and voided.json()["state"] == "CLOSED"
    assert env.klarna.post(f"/v2/payment/transactions/{tid}/void").status_code == 403
    assert env.klarna.post(f"/v2/payment/transactions/{tid}/refunds", {"amount": 1}).status_code == 403


def test_an_uncaptured_authorization_expires_then_closes(env: Env) -> None:
    tid = env.transaction(2500)
    env.advance(28 * DAY_S)
    assert env.klarna.call("GET", f"/v2/payment/transactions/{tid}").json()["state"] == "EXPIRED"
    assert env.klarna.post(f"/v2/payment/transactions/{tid}/captures", {"amount": 1}).status_code == 403
    env.advance(7 * DAY_S)
    assert env.klarna.call("GET", f"/v2/payment/transactions/{tid}").json()["state"] == "CLOSED"


def test_a_customer_token_charges_without_the_customer(env: Env) -> None:
    request = env.approved_request(
        4000,
        "EUR",
        request_customer_token={"scopes": ["payment:customer_not_present"], "customer_token_reference": "c1"},
    )
    r = env.klarna.authorize(
        {"currency": "EUR", "request_payment_transaction": {"amount": 4000}},
        **{"Klarna-Network-Session-Token": _tokens(request)[0]},
    )
    customer_token = r.json()["customer_token_response"]["customer_token"]["customer_token_id"]
    assert r.json()["customer_token_response"]["customer_token"]["customer_token_reference"] == "c1"
    env.advance(2 * 3600)  # long after the session token's hour
    charge = {
        "currency": "EUR",
        "request_payment_transaction": {"amount": 1500, "payment_transaction_reference": "sub-2"},
    }
    first = env.klarna.authorize(charge, **{"Klarna-Customer-Token": customer_token})
    second = env.klarna.authorize(charge, **{"Klarna-Customer-Token": customer_token})
    ids = {
        x.json()["payment_transaction_response"]["payment_transaction"]["payment_transaction_id"]
        for x in (first, second)
    }
    assert len(ids) == 2  # each charge is a new transaction
    unknown = env.klarna.authorize(charge, **{"Klarna-Customer-Token": "krn:nope"})
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "RESOURCE_NOT_FOUND"


def test_payment_request_update_cancel_and_v1_names(env: Env) -> None:
    created = env.klarna.post(
        "/v2/payment/requests", {"currency": "eur", "payment_amount": 1200, "payment_reference": "v1-ref"}
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["amount"], body["currency"], body["payment_request_reference"], body["state"]) == (
        1200,
        "EUR",
        "v1-ref",
        "SUBMITTED",
    )
    rid = body["payment_request_id"]
    assert rid.startswith("krn:payment:eu1:request:")
    updated = env.klarna.call("PUT", f"/v2/payment/requests/{rid}", {"amount": 1500})
    assert (updated.json()["amount"], updated.json()["payment_request_reference"]) == (1500, "v1-ref")
    renamed = env.klarna.call("PUT", f"/v2/payment/requests/{rid}", {"payment_reference": "v1-new"})
    assert (renamed.json()["amount"], renamed.json()["payment_request_reference"]) == (1500, "v1-new")
    canceled = env.klarna.call("DELETE", f"/v2/payment/requests/{rid}").json()
    assert (canceled["state"], canceled["previous_state"], canceled["state_reason"]) == (
        "CANCELED",
        "SUBMITTED",
        "PARTNER_CANCELED",
    )
    assert env.klarna.call("PUT", f"/v2/payment/requests/{rid}", {"amount": 1}).status_code == 403
    assert env.klarna.call("DELETE", f"/v2/payment/requests/{rid}").status_code == 403


def test_a_payment_request_expires_on_the_merchants_clock(env: Env) -> None:
    config = {"method": "HANDOVER", "interaction_expiry": {"duration": "PT15M"}}
    r = env.klarna.post(
        "/v2/payment/requests", {"currency": "EUR", "amount": 100, "customer_interaction_config": config}
    )
    rid = r.json()["payment_request_id"]
    env.advance(14 * 60)
    assert env.klarna.call("GET", f"/v2/payment/requests/{rid}").json()["state"] == "SUBMITTED"
    env.advance(60)
    assert env.klarna.call("GET", f"/v2/payment/requests/{rid}").json()["state"] == "EXPIRED"
    default = env.klarna.post("/v2/payment/requests", {"currency": "EUR", "amount": 100}).json()
    assert default["expires_at"] > default["created_at"]
    too_short = {"method": "HANDOVER", "interaction_expiry": {"duration": "PT14M"}}
    refused = env.klarna.post(
        "/v2/payment/requests", {"currency": "EUR", "amount": 1, "customer_interaction_config": too_short}
    )
    assert refused.status_code == 400


def test_both_basic_forms_and_the_correlation_headers(env: Env) -> None:
    http = env.klarna.http
    for headers in (HEADERS, HEADERS_B64):
        r = http.post(
            "http://testserver/klarna/v2/payment/requests",
            json={"currency": "EUR", "amount": 1},
            headers={**headers, "Partner-Correlation-Id": "abc-123"},
        )
        assert r.status_code == 201, r.text
        assert r.headers["Partner-Correlation-Id"] == "abc-123"
        assert uuid.UUID(r.headers["Klarna-Correlation-Id"])


def _error(r: Any, status: int, error_type: str, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert (body["error_type"], body["error_code"]) == (error_type, code)
    assert uuid.UUID(body["error_id"]) and body["error_message"]
    assert "Klarna-Correlation-Id" in r.headers
    return body


def test_every_error_shape_and_nothing_left_behind(env: Env) -> None:
    http, base = env.klarna.http, "http://testserver/klarna"
    env.approved_request()
    before = dump(env.kasse)
    _error(http.get(f"{base}/v2/payment/requests/x"), 401, "ACCESS_ERROR", "UNAUTHORIZED")
    _error(
        http.get(f"{base}/v2/payment/requests/x", headers={"Authorization": "Basic wrong"}),
        401,
        "ACCESS_ERROR",
        "UNAUTHORIZED",
    )
    other = "krn:partner:global:account:test:OTHER123"
    _error(
        env.klarna.post(f"/v2/accounts/{other}/payment/requests", {"currency": "EUR", "amount": 1}),
        403,
        "RESOURCE_ERROR",
        "OPERATION_FORBIDDEN",
    )
    _error(
        env.klarna.post("/v2/payment/requests", {"currency": "EUR", "amount": 1}, **{"Klarna-Partner-Account": other}),
        403,
        "RESOURCE_ERROR",
        "OPERATION_FORBIDDEN",
    )
    _error(
        env.klarna.call("GET", "/v2/payment/requests/krn:payment:eu1:request:nope"),
        404,
        "RESOURCE_ERROR",
        "RESOURCE_NOT_FOUND",
    )
    _error(
        env.klarna.call("GET", "/v2/payment/transactions/krn:payment:eu1:transaction:nope"),
        404,
        "RESOURCE_ERROR",
        "RESOURCE_NOT_FOUND",
    )
    _error(env.klarna.call("GET", "/v2/no/such/thing"), 404, "RESOURCE_ERROR", "RESOURCE_NOT_FOUND")
    bad = _error(
        env.klarna.post("/v2/payment/requests", {"amount": -5, "colour": "red"}), 400, "INPUT_ERROR", "INPUT_ERROR"
    )
    assert {v["parameter"] for v in bad["validation_errors"]} == {"currency", "amount", "colour"}
    not_json = http.post(f"{base}/v2/payment/requests", content=b"{nope", headers=HEADERS)
    _error(not_json, 400, "INPUT_ERROR", "INPUT_ERROR")
    _error(env.klarna.post("/v2/payment/requests", {"currency": "XXX", "amount": 1}), 400, "INPUT_ERROR", "INPUT_ERROR")
    two = env.klarna.authorize(SEED_BODY, **{"Klarna-Payment-Token": "a", "Klarna-Network-Session-Token": "b"})
    _error(two, 400, "INPUT_ERROR", "INPUT_ERROR")
    _error(
        env.klarna.authorize(SEED_BODY, **{"Klarna-Payment-Token": "krn:unknown"}),
        404,
        "RESOURCE_ERROR",
        "RESOURCE_NOT_FOUND",
    )
    assert dump(env.kasse) == before
    key = env.klarna.post("/v2/notification/signing-keys").json()
    hook = {"url": "http://127.0.0.1:9/hook", "event_types": ["payment.*"], "signing_key_id": key["signing_key_id"]}
    assert env.klarna.post("/v2/notification/webhooks", hook).status_code == 201
    _error(
        env.klarna.call("DELETE", f"/v2/notification/signing-keys/{key['signing_key_id']}"),
        409,
        "RESOURCE_ERROR",
        "RESOURCE_CONFLICT",
    )
