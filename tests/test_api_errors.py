"""Bad requests to the native API: each gets the fitting 4xx in the native error shape, names the
offending field in ``param``, and leaves nothing behind (STYLE.md rule 8)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kasse.engine.unit import Kasse
from tests.conftest import AUTH
from tests.helpers import assert_ledger_invariants
from tests.test_api_support import (
    DAY_S,
    KLARNA_MANUAL,
    SOFORT,
    admin_headers,
    advance,
    approve,
    assert_error,
    assert_nothing_written,
    bearer,
    create,
    event_types,
    get_payment,
    listing,
    new_merchant,
    refund,
)

JSON = {**AUTH, "Content-Type": "application/json"}
MISSING = object()

BAD_BODIES = [
    pytest.param({"amount": 0}, "parameter_invalid", "amount", id="amount-zero"),
    pytest.param({"amount": -1}, "parameter_invalid", "amount", id="amount-negative"),
    pytest.param({"amount": 1.5}, "parameter_invalid", "amount", id="amount-fraction"),
    pytest.param({"amount": 1e20}, "parameter_invalid", "amount", id="amount-float-too-large"),
    pytest.param({"amount": "10"}, "parameter_invalid", "amount", id="amount-string"),
    pytest.param({"amount": True}, "parameter_invalid", "amount", id="amount-bool"),
    pytest.param({"amount": None}, "parameter_invalid", "amount", id="amount-null"),
    pytest.param({"amount": 100_000_000}, "parameter_invalid", "amount", id="amount-too-large"),
    pytest.param({"amount": MISSING}, "parameter_missing", "amount", id="amount-missing"),
    pytest.param({"currency": "XYZ"}, "parameter_invalid", "currency", id="currency-unknown"),
    pytest.param({"currency": "eur"}, "parameter_invalid", "currency", id="currency-lower-case"),
    pytest.param({"currency": "USD"}, "currency_not_supported", "currency", id="currency-not-for-sofort"),
    pytest.param({"currency": MISSING}, "parameter_missing", "currency", id="currency-missing"),
    pytest.param({"method": "paypal"}, "parameter_invalid", "method", id="method-unknown"),
    pytest.param({"country": "US"}, "country_not_supported", "country", id="country-not-for-sofort"),
    pytest.param({"country": "de"}, "parameter_invalid", "country", id="country-lower-case"),
    pytest.param(
        {"method": "klarna_pay_later", "country": "SE", "currency": "EUR"},
        "currency_country_mismatch",
        "currency",
        id="klarna-country-currency",
    ),
    pytest.param({"capture": "manual"}, "capture_method_not_supported", "capture", id="sofort-manual-capture"),
    pytest.param({"capture": "later"}, "parameter_invalid", "capture", id="capture-unknown"),
    pytest.param({"return_url": "ftp://shop.example/r"}, "parameter_invalid", "return_url", id="return-url-ftp"),
    pytest.param({"return_url": "javascript:alert(1)"}, "parameter_invalid", "return_url", id="return-url-js"),
    pytest.param({"return_url": "/return"}, "parameter_invalid", "return_url", id="return-url-relative"),
    pytest.param({"return_url": MISSING}, "parameter_missing", "return_url", id="return-url-missing"),
    pytest.param({"cancel_url": "ftp://shop.example/c"}, "parameter_invalid", "cancel_url", id="cancel-url-ftp"),
    pytest.param(
        {"return_url": "https://shop.example/r\r\nSet-Cookie: a=b"}, "parameter_invalid", "return_url", id="return-crlf"
    ),
    pytest.param({"cancel_url": "https://shop.example/c\nx"}, "parameter_invalid", "cancel_url", id="cancel-url-lf"),
    pytest.param({"return_url": "data:text/html,x"}, "parameter_invalid", "return_url", id="return-url-data"),
    pytest.param({"return_url": "mailto:a@example.com"}, "parameter_invalid", "return_url", id="return-url-mailto"),
    pytest.param({"return_url": "https://shop.example/a b"}, "parameter_invalid", "return_url", id="return-url-space"),
    pytest.param({"return_url": "https://shop.example/\x00"}, "parameter_invalid", "return_url", id="return-url-nul"),
    pytest.param({"return_url": "https://shöp.example/"}, "parameter_invalid", "return_url", id="return-url-non-ascii"),
    pytest.param({"cancel_url": "http:///c"}, "parameter_invalid", "cancel_url", id="cancel-url-no-host"),
    pytest.param({"description": "x" * 501}, "parameter_invalid", "description", id="description-too-long"),
    pytest.param({"reference": "x" * 201}, "parameter_invalid", "reference", id="reference-too-long"),
    pytest.param({"customer": {"name": "x" * 201}}, "parameter_invalid", "customer.name", id="customer-name-long"),
    pytest.param({"customer": {"email": "no-at-sign"}}, "parameter_invalid", "customer.email", id="customer-email"),
    pytest.param({"customer": {"age": 40}}, "parameter_unknown", "customer.age", id="customer-unknown-field"),
    pytest.param({"colour": "red"}, "parameter_unknown", "colour", id="unknown-field"),
    pytest.param(
        {"metadata": {f"k{i}": "v" for i in range(51)}}, "parameter_invalid", "metadata", id="metadata-too-many"
    ),
    pytest.param({"metadata": {"k": "v" * 501}}, "parameter_invalid", "metadata.k", id="metadata-value-long"),
    pytest.param({"metadata": {"k": 1}}, "parameter_invalid", "metadata.k", id="metadata-value-not-string"),
    pytest.param({"metadata": ["k"]}, "parameter_invalid", "metadata", id="metadata-not-object"),
    pytest.param({"metadata": {"k" * 41: "v"}}, "parameter_invalid", "metadata." + "k" * 41, id="metadata-key-long"),
    pytest.param({"expires_in": 59}, "parameter_invalid", "expires_in", id="expires-in-too-short"),
    pytest.param({"expires_in": 30 * DAY_S + 1}, "parameter_invalid", "expires_in", id="expires-in-too-long"),
    pytest.param({"expires_in": 600.5}, "parameter_invalid", "expires_in", id="expires-in-fraction"),
    pytest.param({"sandbox": {"approval": "maybe"}}, "parameter_invalid", "sandbox.approval", id="sandbox-approval"),
]


@pytest.mark.parametrize(("patch", "code", "param"), BAD_BODIES)
def test_bad_create_body_is_refused_and_writes_nothing(
    client: TestClient, patch: dict[str, Any], code: str, param: str
) -> None:
    body = {**SOFORT, **patch}
    body = {k: v for k, v in body.items() if v is not MISSING}
    error = assert_error(client.post("/api/v1/payments", json=body, headers=AUTH), 400, code, param)
    assert error["type"] == "invalid_request_error"
    if code.startswith("parameter_"):
        assert param in error["message"]
    assert_nothing_written(client)


def test_integral_float_amount_is_that_integer(client: TestClient) -> None:
    """JSON Schema's ``integer`` (what the OpenAPI document says) includes 1000.0: the server takes it."""
    payment = create(client, amount=1000.0, expires_in=3600.0)
    assert payment["amount"] == 1000 and isinstance(payment["amount"], int)


BOOLEAN_NUMBERS = [
    pytest.param("/api/v1/webhook_settings", {"timeout_seconds": True}, "timeout_seconds", id="timeout-true"),
    pytest.param("/api/v1/webhook_settings", {"retry_schedule": [60, True]}, "retry_schedule[1]", id="retry-true"),
    pytest.param("/_sandbox/faults", {"drop": True}, "drop", id="faults-drop-true"),
    pytest.param("/_sandbox/faults", {"duplicate": False}, "duplicate", id="faults-duplicate-false"),
    pytest.param("/_sandbox/faults", {"delay_seconds": True}, "delay_seconds", id="faults-delay-true"),
    pytest.param("/_sandbox/faults", {"seed": True}, "seed", id="faults-seed-true"),
    pytest.param("/_sandbox/clock/advance", {"seconds": True}, "seconds", id="advance-true"),
]


@pytest.mark.parametrize(("path", "body", "param"), BOOLEAN_NUMBERS)
def test_booleans_are_not_numbers(client: TestClient, path: str, body: dict[str, Any], param: str) -> None:
    settings = {p: client.get(p, headers=AUTH).json() for p in ("/api/v1/webhook_settings", "/_sandbox/faults")}
    assert_error(client.post(path, json=body, headers=AUTH), 400, "parameter_invalid", param)
    for p, before in settings.items():
        assert client.get(p, headers=AUTH).json() == before  # nothing changed
    assert client.get("/_sandbox/clock", headers=AUTH).json()["offset_seconds"] == 0


def test_numbers_and_strings_are_not_booleans(client: TestClient) -> None:
    payment = create(client, **KLARNA_MANUAL)
    for final in (1, 0, "true", "yes"):
        r = client.post(f"/api/v1/payments/{payment['id']}/capture", json={"final": final}, headers=AUTH)
        assert_error(r, 400, "parameter_invalid", "final")
    endpoint = client.post("/api/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/hook"}, headers=AUTH).json()
    r = client.post(f"/api/v1/webhook_endpoints/{endpoint['id']}", json={"disabled": 1}, headers=AUTH)
    assert_error(r, 400, "parameter_invalid", "disabled")


RAW_BODIES = [
    pytest.param(b'{"amount": 1000,', "invalid_json", id="truncated"),
    pytest.param(b"{'amount': 1000}", "invalid_json", id="single-quotes"),
    pytest.param(json.dumps([SOFORT]).encode(), "invalid_json", id="array"),
    pytest.param(b'"sofort"', "invalid_json", id="string"),
    pytest.param(b"42", "invalid_json", id="number"),
    pytest.param(b"null", "invalid_json", id="null"),
    pytest.param(b"", "parameter_missing", id="empty"),
]


@pytest.mark.parametrize(("raw", "code"), RAW_BODIES)
def test_body_that_is_not_a_json_object(client: TestClient, raw: bytes, code: str) -> None:
    error = assert_error(client.post("/api/v1/payments", content=raw, headers=JSON), 400, code)
    assert error["param"] is None
    assert "None" not in error["message"]
    assert_nothing_written(client)


def test_body_that_is_not_utf8_or_nested_too_deep(client: TestClient) -> None:
    assert_error(client.post("/api/v1/payments", content=b'{"description": "\xff"}', headers=JSON), 400, "invalid_body")
    deep = b"[" * 100_000 + b"]" * 100_000
    assert_error(client.post("/api/v1/payments", content=deep, headers=JSON), 400, "invalid_body")
    assert_nothing_written(client)


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", None]
)
def test_body_that_is_not_json_gets_415(client: TestClient, content_type: str | None) -> None:
    # 415 as the OpenAPI document says (kasse.dialects.native.errors.ERROR_RESPONSES).
    headers = dict(AUTH)
    if content_type is not None:
        headers["Content-Type"] = content_type
    raw = json.dumps(SOFORT).encode()
    error = assert_error(client.post("/api/v1/payments", content=raw, headers=headers), 415, "unsupported_media_type")
    assert error["param"] is None
    assert_nothing_written(client)


def test_form_post_to_a_control_plane_gets_415(client: TestClient) -> None:
    r = client.post("/_sandbox/clock/advance", data={"seconds": "60"}, headers=AUTH)
    assert_error(r, 415, "unsupported_media_type")
    r = client.post("/_admin/merchants", data={"name": "Shop"}, headers=admin_headers(client))
    assert_error(r, 415, "unsupported_media_type")
    assert client.get("/_sandbox/clock", headers=AUTH).json()["offset_seconds"] == 0


def test_json_with_charset_is_json(client: TestClient) -> None:
    headers = {**AUTH, "Content-Type": "application/json; charset=utf-8"}
    r = client.post("/api/v1/payments", content=json.dumps(SOFORT).encode(), headers=headers)
    assert r.status_code == 201, r.text


def test_oversized_body_gets_413(client: TestClient) -> None:
    limit: int = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    assert limit == 1_048_576
    raw = json.dumps({**SOFORT, "description": "x" * limit}).encode()
    error = assert_error(client.post("/api/v1/payments", content=raw, headers=JSON), 413, "request_too_large")
    assert error["param"] is None
    assert_nothing_written(client)


def test_oversized_streamed_body_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(12):
            yield b"x" * 100_000

    # No Content-Length: the limit is enforced while reading, and the answer is the same 413.
    r = client.post("/api/v1/payments", content=chunks(), headers=JSON)
    assert_error(r, 413, "request_too_large")
    assert_nothing_written(client)


def test_body_just_under_the_limit_is_read(client: TestClient) -> None:
    limit: int = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    raw = json.dumps({**SOFORT, "description": "x" * 501}).encode()
    raw = raw + b" " * (limit - len(raw))
    assert len(raw) == limit
    assert_error(client.post("/api/v1/payments", content=raw, headers=JSON), 400, "parameter_invalid", "description")


# --- authentication -------------------------------------------------------------------------------------

BAD_AUTH = [
    pytest.param({}, id="none"),
    pytest.param({"Authorization": "Bearer sk_test_not_a_key"}, id="unknown-key"),
    pytest.param({"Authorization": "Bearer "}, id="empty-bearer"),
    pytest.param({"Authorization": "Basic c2tfdGVzdF9rYXNzZV9zYW5kYm94Og=="}, id="basic"),
    pytest.param({"Authorization": "sk_test_kasse_sandbox"}, id="no-scheme"),
    pytest.param({"Authorization": "Bearer pk_test_kasse_sandbox"}, id="publishable-key"),
]


@pytest.mark.parametrize("headers", BAD_AUTH)
def test_missing_or_invalid_api_key_gets_401(client: TestClient, headers: dict[str, str]) -> None:
    p = create(client)
    requests = [
        ("POST", "/api/v1/payments", SOFORT),
        ("GET", "/api/v1/payments", None),
        ("GET", f"/api/v1/payments/{p['id']}", None),
        ("POST", f"/api/v1/payments/{p['id']}/cancel", None),
        ("GET", "/api/v1/events", None),
        ("GET", "/api/v1/balance", None),
        ("GET", "/api/v1/ledger/transfers", None),
        ("GET", "/_sandbox/clock", None),
        ("POST", f"/_sandbox/payments/{p['id']}/approve", None),
        ("POST", "/_sandbox/reset", None),
    ]
    for method, path, body in requests:
        r = client.request(method, path, json=body, headers=headers)
        error = assert_error(r, 401, "invalid_api_key")
        assert error["type"] == "authentication_error", path
        assert r.headers["www-authenticate"].startswith("Bearer")
    # Nothing happened: still one payment, still waiting for the customer.
    assert [x["status"] for x in listing(client, "/api/v1/payments")["data"]] == ["requires_action"]


def test_admin_token_and_secret_keys_are_not_interchangeable(client: TestClient) -> None:
    admin = admin_headers(client)
    assert_error(client.get("/api/v1/payments", headers=admin), 401, "invalid_api_key")
    assert_error(client.post("/_admin/merchants", json={"name": "Shop"}, headers=AUTH), 401)
    assert_error(client.post("/_admin/merchants", json={"name": "Shop"}), 401)
    assert_error(client.post("/_admin/merchants", json={"name": "Shop"}, headers=bearer("adm_wrong")), 401)


# --- other merchants' objects -------------------------------------------------------------------------


def _same_apart_from_id(r_other: Any, other_id: str, r_missing: Any, missing_id: str) -> None:
    assert r_other.status_code == r_missing.status_code == 404
    assert r_other.json() == json.loads(r_missing.text.replace(missing_id, other_id))


def test_another_merchants_objects_look_missing(client: TestClient, kasse: Kasse) -> None:
    second = new_merchant(client)
    theirs = bearer(second["secret_key"])
    p = create(client, theirs, **KLARNA_MANUAL)
    approve(client, p["id"], theirs)
    r = client.post(f"/api/v1/payments/{p['id']}/capture", json={"amount": 400, "final": False}, headers=theirs)
    assert r.status_code == 200, r.text
    rf = client.post(f"/api/v1/payments/{p['id']}/refunds", json={"amount": 100}, headers=theirs).json()
    event_id = listing(client, "/api/v1/events", theirs)["data"][0]["id"]
    missing = "pay_" + "0" * (len(p["id"]) - 4)

    requests = [
        ("GET", "/api/v1/payments/{}", None),
        ("POST", "/api/v1/payments/{}/capture", {"amount": 100}),
        ("POST", "/api/v1/payments/{}/cancel", None),
        ("POST", "/api/v1/payments/{}/refunds", {"amount": 100}),
        ("GET", "/api/v1/payments/{}/captures", None),
        ("GET", "/api/v1/payments/{}/refunds", None),
        ("POST", "/_sandbox/payments/{}/approve", None),
        ("POST", "/_sandbox/payments/{}/decline", None),
    ]
    for method, template, body in requests:
        r_other = client.request(method, template.format(p["id"]), json=body, headers=AUTH)
        r_missing = client.request(method, template.format(missing), json=body, headers=AUTH)
        _same_apart_from_id(r_other, p["id"], r_missing, missing)
        assert_error(r_other, 404, "resource_missing", "id")
    for template, object_id, missing_id in [
        ("/api/v1/refunds/{}", rf["id"], "rfd_" + "0" * (len(rf["id"]) - 4)),
        ("/api/v1/events/{}", event_id, "evt_" + "0" * (len(event_id) - 4)),
    ]:
        r_other = client.get(template.format(object_id), headers=AUTH)
        r_missing = client.get(template.format(missing_id), headers=AUTH)
        _same_apart_from_id(r_other, object_id, r_missing, missing_id)

    # Their payment is untouched, and nothing of theirs shows up in my lists.
    after = get_payment(client, p["id"], theirs)
    assert (after["status"], after["amount_captured"], after["amount_refunded"]) == ("processing", 400, 100)
    assert listing(client, f"/api/v1/events?payment_id={p['id']}")["data"] == []
    assert_nothing_written(client)
    with kasse.read() as store:
        assert_ledger_invariants(store, second["id"])


# --- not allowed in this state ------------------------------------------------------------------------


def test_capture_more_than_capturable_is_400_and_changes_nothing(client: TestClient, kasse: Kasse) -> None:
    p = create(client, **KLARNA_MANUAL)
    approve(client, p["id"])
    before = event_types(client)
    for amount in (1001, 99_999_999):
        r = client.post(f"/api/v1/payments/{p['id']}/capture", json={"amount": amount}, headers=AUTH)
        assert_error(r, 400, "amount_too_large", "amount")
    assert_error(
        client.post(f"/api/v1/payments/{p['id']}/capture", json={"amount": 0}, headers=AUTH),
        400,
        "parameter_invalid",
        "amount",
    )
    assert_error(
        client.post(f"/api/v1/payments/{p['id']}/capture", json={"amount": 10, "colour": 1}, headers=AUTH),
        400,
        "parameter_unknown",
        "colour",
    )
    r = client.post(f"/api/v1/payments/{p['id']}/capture", json={"amount": 600, "final": False}, headers=AUTH)
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/payments/{p['id']}/capture", json={"amount": 401}, headers=AUTH)
    assert_error(r, 400, "amount_too_large", "amount")
    after = get_payment(client, p["id"])
    assert (after["amount_captured"], after["amount_capturable"]) == (600, 400)
    assert event_types(client) == [*before, "payment.processing", "capture.created"]
    with kasse.read() as store:
        assert_ledger_invariants(store, "mer_sandbox")


def test_capture_in_the_wrong_state_is_409(client: TestClient) -> None:
    waiting = create(client, **KLARNA_MANUAL)
    assert_error(client.post(f"/api/v1/payments/{waiting['id']}/capture", headers=AUTH), 409, "invalid_state")
    sofort = create(client)
    approve(client, sofort["id"])
    assert_error(client.post(f"/api/v1/payments/{sofort['id']}/capture", headers=AUTH), 409, "nothing_to_capture")
    assert get_payment(client, waiting["id"])["status"] == "requires_action"


def test_refund_more_than_refundable_is_400(client: TestClient, kasse: Kasse) -> None:
    p = create(client)
    approve(client, p["id"])
    advance(client, 3 * DAY_S)
    r = client.post(f"/api/v1/payments/{p['id']}/refunds", json={"amount": 1001}, headers=AUTH)
    assert_error(r, 400, "amount_too_large", "amount")
    refund(client, p["id"], amount=600)
    r = client.post(f"/api/v1/payments/{p['id']}/refunds", json={"amount": 401}, headers=AUTH)
    assert_error(r, 400, "amount_too_large", "amount")
    for bad, param in [({"amount": 0}, "amount"), ({"amount": "5"}, "amount"), ({"reason": "x" * 201}, "reason")]:
        assert_error(client.post(f"/api/v1/payments/{p['id']}/refunds", json=bad, headers=AUTH), 400, param=param)
    assert get_payment(client, p["id"])["amount_refunded"] == 600
    assert len(listing(client, f"/api/v1/payments/{p['id']}/refunds")["data"]) == 1
    with kasse.read() as store:
        assert_ledger_invariants(store, "mer_sandbox")


def test_refund_of_an_unpaid_payment_is_409(client: TestClient) -> None:
    p = create(client)
    assert_error(client.post(f"/api/v1/payments/{p['id']}/refunds", headers=AUTH), 409, "payment_not_refundable")
    assert event_types(client) == ["payment.created"]


def test_cancel_a_succeeded_payment_is_409(client: TestClient) -> None:
    p = create(client)
    approve(client, p["id"])
    error = assert_error(client.post(f"/api/v1/payments/{p['id']}/cancel", headers=AUTH), 409, "invalid_state")
    assert error["type"] == "invalid_state_error"
    assert "processing" in error["message"]
    advance(client, 3 * DAY_S)
    error = assert_error(client.post(f"/api/v1/payments/{p['id']}/cancel", headers=AUTH), 409, "invalid_state")
    assert "succeeded" in error["message"]
    assert get_payment(client, p["id"])["status"] == "succeeded"
    assert "payment.canceled" not in event_types(client)


def test_approve_twice_is_409(client: TestClient) -> None:
    p = create(client)
    approve(client, p["id"])
    events = event_types(client)
    error = assert_error(client.post(f"/_sandbox/payments/{p['id']}/approve", headers=AUTH), 409, "invalid_state")
    assert error["type"] == "invalid_state_error"
    assert_error(client.post(f"/_sandbox/payments/{p['id']}/decline", headers=AUTH), 409, "invalid_state")
    assert event_types(client) == events
    assert len(listing(client, f"/api/v1/payments/{p['id']}/captures")["data"]) == 1


def test_cancel_twice_is_409(client: TestClient) -> None:
    p = create(client)
    assert client.post(f"/api/v1/payments/{p['id']}/cancel", headers=AUTH).status_code == 200
    assert_error(client.post(f"/api/v1/payments/{p['id']}/cancel", headers=AUTH), 409, "invalid_state")
    assert_error(
        client.post(f"/api/v1/payments/{p['id']}/cancel", json={"reason": "x" * 61}, headers=AUTH),
        400,
        "parameter_invalid",
        "reason",
    )


# --- query parameters, routes, headers ----------------------------------------------------------------

LIST_PATHS = ["/api/v1/payments", "/api/v1/events", "/api/v1/ledger/transfers"]
BAD_QUERIES = [
    pytest.param({"limit": 0}, "limit", id="limit-0"),
    pytest.param({"limit": 101}, "limit", id="limit-101"),
    pytest.param({"limit": -1}, "limit", id="limit-negative"),
    pytest.param({"limit": "ten"}, "limit", id="limit-word"),
    pytest.param({"starting_after": "pay_" + "x" * 37}, "starting_after", id="starting-after-long"),
    pytest.param({"ending_before": "pay_" + "x" * 37}, "ending_before", id="ending-before-long"),
]


@pytest.mark.parametrize(("params", "param"), BAD_QUERIES)
def test_bad_list_parameters_are_400(client: TestClient, params: dict[str, Any], param: str) -> None:
    for path in LIST_PATHS:
        assert_error(client.get(path, params=params, headers=AUTH), 400, "parameter_invalid", param)


def test_bad_list_filters_are_400(client: TestClient) -> None:
    cases = [
        ("/api/v1/payments", {"created_gte": "yesterday"}, "created_gte"),
        ("/api/v1/payments", {"created_lt": "2026-03-02T09:00:00"}, "created_lt"),  # no time zone
        ("/api/v1/payments", {"created_gte": "9" * 30}, "created_gte"),
        ("/api/v1/payments", {"status": "Succeeded; DROP"}, "status"),
        ("/api/v1/events", {"type": "PAYMENT"}, "type"),
        ("/api/v1/events", {"payment_id": "pay_" + "x" * 40}, "payment_id"),
    ]
    for path, params, param in cases:
        assert_error(client.get(path, params=params, headers=AUTH), 400, "parameter_invalid", param)


def test_limit_bounds_are_allowed(client: TestClient) -> None:
    for limit in (1, 100):
        for path in LIST_PATHS:
            assert listing(client, path, limit=limit)["data"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/payments"),
        ("PUT", "/api/v1/payments/pay_123"),
        ("GET", "/api/v1/payments/pay_123/capture"),
        ("POST", "/api/v1/balance"),
        ("GET", "/_sandbox/reset"),
        ("GET", "/_admin/merchants"),
    ],
)
def test_method_not_allowed_is_405(client: TestClient, method: str, path: str) -> None:
    assert_error(client.request(method, path, headers=AUTH), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/v1/payments", "GET, OPTIONS, POST"),
        ("/api/v1/webhook_endpoints/we_123", "DELETE, GET, OPTIONS, POST"),
        ("/api/v1/payments/pay_123/refunds", "GET, OPTIONS, POST"),
        ("/_sandbox/faults", "DELETE, GET, OPTIONS, POST"),
    ],
)
def test_allow_names_every_method_of_the_path(client: TestClient, path: str, methods: str) -> None:
    """Starlette's 405 named the first matching route's method only (GET or POST, not both)."""
    options = client.options(path, headers=AUTH)
    assert options.status_code == 204 and options.content == b""
    assert options.headers["allow"] == methods
    refused = client.request("PUT", path, headers=AUTH)
    assert_error(refused, 405, "method_not_allowed")
    assert refused.headers["allow"] == methods


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2/payments", "/api/v1/payments/pay_1/nope", "/nope"])
def test_unknown_url_is_404(client: TestClient, path: str) -> None:
    error = assert_error(client.get(path, headers=AUTH), 404, "not_found")
    assert error["param"] is None
    assert_error(client.post(path, json={}, headers=AUTH), 404, "not_found")


def test_invalid_idempotency_key_is_400(client: TestClient) -> None:
    for key in ("k" * 256, ""):
        r = client.post("/api/v1/payments", json=SOFORT, headers={**AUTH, "Idempotency-Key": key})
        assert_error(r, 400, param="Idempotency-Key")
    assert_nothing_written(client)
    r = client.post("/api/v1/payments", json=SOFORT, headers={**AUTH, "Idempotency-Key": "k" * 255})
    assert r.status_code == 201, r.text
