"""The admin control plane, health, metrics and the OpenAPI document, over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from kasse import __version__
from kasse.domain.money import CURRENCY_EXPONENTS
from kasse.engine.unit import Kasse
from tests.conftest import AUTH
from tests.helpers import FakeWall
from tests.test_api_support import (
    DAY_S,
    admin_headers,
    advance,
    approve,
    assert_error,
    assert_nothing_written,
    bearer,
    create,
    get_payment,
    ids,
    listing,
    new_merchant,
)

# --- admin --------------------------------------------------------------------------------------------


def test_admin_creates_a_merchant_with_every_credential(client: TestClient) -> None:
    m = new_merchant(client, "Blumenladen Müller")
    assert set(m) == {
        "id",
        "name",
        "secret_key",
        "publishable_key",
        "multisafepay",
        "secuconnect",
        "payone",
        "klarna",
    }
    assert m["id"].startswith("mer_") and m["name"] == "Blumenladen Müller"
    assert m["secret_key"].startswith("sk_test_") and m["publishable_key"].startswith("pk_test_")
    assert set(m["multisafepay"]) == {"api_key"}
    assert set(m["secuconnect"]) == {"client_id", "client_secret"}
    assert set(m["payone"]) == {"mid", "aid", "portalid", "key"}
    assert set(m["klarna"]) == {"partner_account_id", "api_key"}
    for group in ("multisafepay", "secuconnect", "payone", "klarna"):
        assert all(isinstance(v, str) and v for v in m[group].values()), group

    other = new_merchant(client, "Another")
    assert other["id"] != m["id"]
    assert other["secret_key"] != m["secret_key"]
    assert other["payone"]["key"] != m["payone"]["key"]


def test_a_new_merchants_secret_key_works_on_the_api(client: TestClient) -> None:
    m = new_merchant(client)
    theirs = bearer(m["secret_key"])
    assert_nothing_written(client, theirs)
    p = create(client, theirs)
    assert ids(listing(client, "/api/v1/payments", theirs)) == [p["id"]]
    assert approve(client, p["id"], theirs)["status"] == "processing"
    assert advance(client, 3 * DAY_S, theirs)["offset_seconds"] == 3 * DAY_S
    assert get_payment(client, p["id"], theirs)["status"] == "succeeded"
    assert listing(client, "/api/v1/payments")["data"] == []
    # Its publishable key is not a secret key.
    assert_error(client.get("/api/v1/payments", headers=bearer(m["publishable_key"])), 401, "invalid_api_key")


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({}, "parameter_missing", "name"),
        ({"name": ""}, "parameter_invalid", "name"),
        ({"name": "x" * 201}, "parameter_invalid", "name"),
        ({"name": 7}, "parameter_invalid", "name"),
        ({"name": "Shop", "plan": "gold"}, "parameter_unknown", "plan"),
    ],
)
def test_bad_merchant_request_is_400(client: TestClient, body: dict[str, Any], code: str, param: str) -> None:
    assert_error(client.post("/_admin/merchants", json=body, headers=admin_headers(client)), 400, code, param)


# --- health -------------------------------------------------------------------------------------------


def test_healthz_needs_no_key_and_names_the_database(client: TestClient, kasse: Kasse) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "version": __version__,
        "database": "sqlite" if kasse.db.is_sqlite else "postgresql",
    }


# --- metrics ------------------------------------------------------------------------------------------

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(client: TestClient) -> Samples:
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    p = create(client)
    before = _scrape(client)
    for _ in range(3):
        get_payment(client, p["id"])
    client.get("/api/v1/payments/pay_missing", headers=AUTH)
    client.get("/no/such/page")
    after = _scrape(client)

    route = "/api/v1/payments/{payment_id}"

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("kasse_http_requests_total", method="GET", route=route, status="200") == 3
    assert delta("kasse_http_requests_total", method="GET", route=route, status="404") == 1
    assert delta("kasse_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert delta("kasse_http_request_duration_seconds_count", method="GET", route=route) == 4
    assert delta("kasse_http_request_duration_seconds_sum", method="GET", route=route) > 0
    assert delta("kasse_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf") == 4
    # Raw paths never become labels.
    assert not any(("route", f"/api/v1/payments/{p['id']}") in labels for _, labels in after)


def test_metrics_show_payments_by_status_and_timers_due(client: TestClient, wall: FakeWall) -> None:
    assert _value(_scrape(client), "kasse_timers_due") == 0
    waiting = [create(client)["id"] for _ in range(2)]
    paid = create(client)
    approve(client, paid["id"])
    samples = _scrape(client)
    assert _value(samples, "kasse_payments", status="requires_action") == 2
    assert _value(samples, "kasse_payments", status="processing") == 1
    assert _value(samples, "kasse_payments", status="succeeded") == 0
    assert _value(samples, "kasse_timers_due") == 0

    # The wall moves past the expiries; no worker runs here, so they are due and not fired.
    wall.tick(DAY_S + 1)
    samples = _scrape(client)
    assert _value(samples, "kasse_timers_due") == 3  # two expiries and the no-op expiry of the paid one
    assert all(get_payment(client, pid)["status"] == "requires_action" for pid in waiting)

    advance(client, DAY_S + 1)
    samples = _scrape(client)
    assert _value(samples, "kasse_timers_due") == 0
    assert _value(samples, "kasse_payments", status="expired") == 2
    assert _value(samples, "kasse_payments", status="succeeded") == 1
    assert _value(samples, "kasse_payments", status="requires_action") == 0


# --- OpenAPI ------------------------------------------------------------------------------------------


def test_openapi_document_describes_the_native_api(client: TestClient) -> None:
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "Kasse"
    paths = doc["paths"]
    expected = {
        "/api/v1/payments": {"get", "post"},
        "/api/v1/payments/{payment_id}": {"get"},
        "/api/v1/payments/{payment_id}/capture": {"post"},
        "/api/v1/payments/{payment_id}/cancel": {"post"},
        "/api/v1/payments/{payment_id}/refunds": {"get", "post"},
        "/api/v1/refunds/{refund_id}": {"get"},
        "/api/v1/events": {"get"},
        "/api/v1/events/{event_id}": {"get"},
        "/api/v1/balance": {"get"},
        "/api/v1/ledger/transfers": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    assert "/healthz" not in paths and "/metrics" not in paths

    schemas = doc["components"]["schemas"]
    for name in ("CreatePaymentIn", "PaymentOut", "CaptureIn", "RefundIn", "RefundOut", "EventOut", "ErrorOut"):
        assert name in schemas, name
    create_in = schemas["CreatePaymentIn"]
    assert {"amount", "currency", "method", "return_url"} <= set(create_in["required"])
    # What the server enforces on URLs, published: generated clients and fuzzers agree with it.
    for url in (create_in["properties"]["return_url"], schemas["EndpointIn"]["properties"]["url"]):
        assert (url["type"], url["format"], url["maxLength"]) == ("string", "uri", 2048), url
        assert re.match(url["pattern"], "https://shop.example/r?x=1") and not re.match(url["pattern"], "javascript:x")
    assert create_in["additionalProperties"] is False
    assert create_in["properties"]["amount"]["maximum"] == 99_999_999
    assert set(schemas["Method"]["enum"]) == {
        "sofort",
        "klarna_pay_now",
        "klarna_pay_later",
        "klarna_slice_it",
        "klarna_direct_debit",
    }

    post = paths["/api/v1/payments"]["post"]
    body_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref == "#/components/schemas/CreatePaymentIn"
    assert post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/PaymentOut")
    for status in ("400", "401", "404", "409", "413", "415", "422"):
        assert post["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
    listed = {p["name"] for p in paths["/api/v1/payments"]["get"]["parameters"]}
    assert {"limit", "starting_after", "ending_before", "status", "created_gte", "created_lt"} <= listed


def _keywords(node: object) -> Iterator[tuple[str, object]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _keywords(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keywords(item)


def test_openapi_says_what_the_server_enforces(client: TestClient) -> None:
    """Generated clients and fuzzers take the document at its word: every value it allows is taken and
    the rest refused (test_api_errors proves the server side of each)."""
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    create_in = schemas["CreatePaymentIn"]["properties"]
    assert create_in["currency"]["enum"] == sorted(CURRENCY_EXPONENTS)
    assert create_in["country"]["anyOf"][0]["pattern"] == "^[A-Z]{2}$"
    assert create_in["amount"]["type"] == "integer" and create_in["amount"]["exclusiveMinimum"] == 0
    assert create_in["expires_in"]["minimum"] == 60
    assert schemas["CaptureIn"]["properties"]["final"]["type"] == "boolean"
    faults = schemas["FaultsIn"]["properties"]
    assert faults["drop"]["type"] == "number" and faults["delay_seconds"]["maximum"] == 7 * 86_400
    settings = schemas["WebhookSettingsIn"]["properties"]
    assert settings["retry_schedule"]["anyOf"][0]["items"]["minimum"] == 1
    # Bounds written as Pydantic's own names are not JSON Schema: a client would ignore them.
    assert not [key for key, _ in _keywords(schemas) if key in ("gt", "ge", "lt", "le")]


def test_api_docs_page(client: TestClient) -> None:
    r = client.get("/api/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower()
    assert "/api/openapi.json" in r.text
