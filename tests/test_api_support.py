"""Helpers shared by the ``test_api_*`` modules: HTTP calls through the TestClient, asserting each answer.

No tests live here. Every helper goes through the public HTTP surface only.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import AUTH

DAY_S = 86_400

SOFORT: dict[str, Any] = {
    "amount": 1000,
    "currency": "EUR",
    "method": "sofort",
    "return_url": "https://shop.example/return",
}
KLARNA_MANUAL: dict[str, Any] = {
    "amount": 1000,
    "currency": "EUR",
    "method": "klarna_pay_later",
    "country": "DE",
    "capture": "manual",
    "return_url": "https://shop.example/return",
}


def create(client: TestClient, headers: dict[str, str] = AUTH, **fields: Any) -> dict[str, Any]:
    """A Sofort payment of 10.00 EUR unless ``fields`` say otherwise."""
    r = client.post("/api/v1/payments", json={**SOFORT, **fields}, headers=headers)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def get_payment(client: TestClient, payment_id: str, headers: dict[str, str] = AUTH) -> dict[str, Any]:
    r = client.get(f"/api/v1/payments/{payment_id}", headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def approve(client: TestClient, payment_id: str, headers: dict[str, str] = AUTH) -> dict[str, Any]:
    r = client.post(f"/_sandbox/payments/{payment_id}/approve", headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def advance(client: TestClient, seconds: float, headers: dict[str, str] = AUTH) -> dict[str, Any]:
    r = client.post("/_sandbox/clock/advance", json={"seconds": seconds}, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def capture(client: TestClient, payment_id: str, **fields: Any) -> dict[str, Any]:
    r = client.post(f"/api/v1/payments/{payment_id}/capture", json=fields, headers=AUTH)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def refund(client: TestClient, payment_id: str, **fields: Any) -> dict[str, Any]:
    r = client.post(f"/api/v1/payments/{payment_id}/refunds", json=fields, headers=AUTH)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def get_refund(client: TestClient, refund_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/refunds/{refund_id}", headers=AUTH)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def listing(client: TestClient, path: str, headers: dict[str, str] = AUTH, **params: Any) -> dict[str, Any]:
    r = client.get(path, params=params, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["object"] == "list"
    return body


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["data"]]


def walk(client: TestClient, path: str, limit: int, headers: dict[str, str] = AUTH, **params: Any) -> list[str]:
    """Every id of a list endpoint, page by page with ``starting_after``."""
    seen: list[str] = []
    cursor: dict[str, str] = {}
    for _ in range(100):
        page = listing(client, path, headers, limit=limit, **params, **cursor)
        assert len(page["data"]) <= limit
        seen += ids(page)
        if not page["has_more"]:
            return seen
        assert len(page["data"]) == limit
        cursor = {"starting_after": seen[-1]}
    raise AssertionError("pagination did not end")


def event_types(client: TestClient, headers: dict[str, str] = AUTH, **params: Any) -> list[str]:
    """Event types, oldest first."""
    page = listing(client, "/api/v1/events", headers, limit=100, **params)
    return [e["type"] for e in reversed(page["data"])]


def balance(client: TestClient, headers: dict[str, str] = AUTH) -> dict[str, dict[str, int]]:
    """``{"available": {"EUR": 1000}, "pending": {"EUR": 0}}``."""
    r = client.get("/api/v1/balance", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "balance"
    return {kind: {m["currency"]: m["amount"] for m in body[kind]} for kind in ("available", "pending")}


def eur(client: TestClient, headers: dict[str, str] = AUTH) -> tuple[int, int]:
    """(available, pending) in EUR; a currency the ledger never moved money in counts as zero."""
    amounts = balance(client, headers)
    return amounts["available"].get("EUR", 0), amounts["pending"].get("EUR", 0)


def admin_headers(client: TestClient) -> dict[str, str]:
    token: str = client.app.state.settings.admin_token  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token}"}


def new_merchant(client: TestClient, name: str = "Second Shop") -> dict[str, Any]:
    r = client.post("/_admin/merchants", json={"name": name}, headers=admin_headers(client))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def bearer(secret_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret_key}"}


def assert_error(r: Any, status: int, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """The native error shape with ``status``; ``code`` and ``param`` checked when given."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"type", "code", "message", "param"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    if param is not None:
        assert error["param"] == param, error
    return error


def assert_nothing_written(client: TestClient, headers: dict[str, str] = AUTH) -> None:
    """No payment, event, ledger transfer or balance exists for this merchant."""
    for path in ("/api/v1/payments", "/api/v1/events", "/api/v1/ledger/transfers"):
        page = listing(client, path, headers)
        assert page["data"] == [] and page["has_more"] is False, (path, page)
    assert balance(client, headers) == {"available": {}, "pending": {}}
