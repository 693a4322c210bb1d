"""The dashboard over HTTP, on both databases: sign-in, the session cookie, CSRF, no framing, filters and
search, and actions that change state through the engine (and refuse what the state does not allow)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kasse.engine.merchants import create_merchant
from kasse.engine.unit import Kasse
from tests.conftest import AUTH

BODY = {"currency": "EUR", "method": "sofort", "country": "DE", "return_url": "http://127.0.0.1:9/r"}


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    r = client.post("/api/v1/payments", headers=AUTH, json={**BODY, "amount": 2500, **fields})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def sign_in(client: TestClient, key: str = "sk_test_kasse_sandbox") -> str:
    r = client.post("/dashboard/login", data={"secret_key": key, "next": "/dashboard"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/dashboard/clock").text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def status_of(client: TestClient, payment_id: str) -> str:
    return str(client.get(f"/api/v1/payments/{payment_id}", headers=AUTH).json()["status"])


def test_pages_need_a_signed_in_merchant(client: TestClient) -> None:
    for path in (
        "/dashboard",
        "/dashboard/clock",
        "/dashboard/webhooks",
        "/dashboard/credentials",
        "/dashboard/balance",
    ):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/dashboard/login?next=")
    r = client.post("/dashboard/login", data={"secret_key": "sk_test_wrong"})
    assert r.status_code == 401 and "No merchant has this secret key" in r.text
    client.cookies.set("kasse_dashboard", "mer_sandbox." + "A" * 22 + "." + "B" * 43, path="/dashboard")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303  # a forged cookie


def test_sign_in_sets_a_strict_cookie_and_pages_refuse_framing(client: TestClient) -> None:
    r = client.post("/dashboard/login", data={"secret_key": "sk_test_kasse_sandbox"}, follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/dashboard" in cookie
    for path in ("/", "/dashboard", "/dashboard/login"):
        page = client.get(path)
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "https://" not in page.text.replace("https://github.com", "")  # nothing loaded from outside


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(client: TestClient) -> None:
    pay = create(client)
    csrf = sign_in(client)
    for token in ("", "wrong", csrf[:-1] + ("A" if csrf[-1] != "A" else "B")):
        r = client.post(f"/dashboard/payments/{pay['id']}/approve", data={"csrf": token}, follow_redirects=False)
        assert r.status_code == 403
    assert status_of(client, pay["id"]) == "requires_action"
    r = client.post(f"/dashboard/payments/{pay['id']}/approve", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and status_of(client, pay["id"]) == "processing"


def test_filters_and_search_by_any_id_or_reference(client: TestClient) -> None:
    small = create(client, amount=500, reference="order-small")
    big = create(client, amount=90000, reference="order-big")
    klarna = create(client, method="klarna_pay_later", capture="manual", reference="order-klarna")
    csrf = sign_in(client)
    client.post(f"/dashboard/payments/{big['id']}/approve", data={"csrf": csrf})
    refund = client.post(f"/api/v1/payments/{big['id']}/refunds", headers=AUTH, json={"amount": 100}).json()

    def listed(query: str) -> set[str]:
        return set(re.findall(r'href="/dashboard/payments/(pay_\w+)"', client.get(f"/dashboard?{query}").text))

    ids = {small["id"], big["id"], klarna["id"]}
    assert listed("") == ids
    assert listed("status=processing") == {big["id"]}
    assert listed("method=klarna_pay_later") == {klarna["id"]}
    assert listed("provider=native") == ids and listed("provider=stripe") == set()
    assert listed("amount_min=10.00") == {big["id"], klarna["id"]} and listed("amount_max=5.00") == {small["id"]}
    assert listed("q=order-small") == {small["id"]}
    assert listed(f"q={refund['id']}") == {big["id"]} and listed(f"q={klarna['id']}") == {klarna["id"]}
    assert listed("q=nothing-like-this") == set()


def test_actions_go_through_the_engine_and_a_refused_one_says_why(client: TestClient) -> None:
    manual = create(client, method="klarna_pay_later", capture="manual")
    csrf = sign_in(client)
    page = client.get(f"/dashboard/payments/{manual['id']}").text
    assert 'data-testid="action-approve"' in page and 'data-testid="action-refund"' not in page
    client.post(f"/dashboard/payments/{manual['id']}/approve", data={"csrf": csrf})
    assert status_of(client, manual["id"]) == "authorized"
    client.post(f"/dashboard/payments/{manual['id']}/capture", data={"csrf": csrf, "amount": "10.00"})
    got = client.get(f"/api/v1/payments/{manual['id']}", headers=AUTH).json()
    assert got["status"] == "processing" and got["amount_captured"] == 1000
    r = client.post(f"/dashboard/payments/{manual['id']}/refund", data={"csrf": csrf, "amount": "4,0O"})
    assert "Invalid amount" in r.text and 'data-testid="refund-row"' not in r.text  # a typo refunds nothing
    r = client.post(f"/dashboard/payments/{manual['id']}/refund", data={"csrf": csrf, "amount": "4.00"})
    assert "refund: done" in r.text and "\u22124.00 EUR" in r.text  # a minus sign
    r = client.post(f"/dashboard/payments/{manual['id']}/approve", data={"csrf": csrf})
    assert "Cannot authorize a payment in state" in r.text  # the engine's refusal, shown
    other = create(client)
    client.post(f"/dashboard/payments/{other['id']}/cancel", data={"csrf": csrf})
    assert status_of(client, other["id"]) == "canceled"


def test_clock_page_advances_and_says_what_fired(client: TestClient) -> None:
    pay = create(client)
    csrf = sign_in(client)
    client.post(f"/dashboard/payments/{pay['id']}/approve", data={"csrf": csrf})
    r = client.post("/dashboard/clock/advance", data={"csrf": csrf, "step": "14d"})
    assert r.status_code == 200 and "capture.succeeded, payment.succeeded" in r.text
    assert "nothing to do (its subject had moved on)" in r.text  # the paid payment's expiry
    assert status_of(client, pay["id"]) == "succeeded"
    assert client.post("/dashboard/clock/advance", data={"csrf": csrf, "until": "2000-01-01T00:00"}).status_code == 400
    client.post("/dashboard/clock/freeze", data={"csrf": csrf})
    assert 'data-testid="resume"' in client.get("/dashboard/clock").text
    client.post("/dashboard/clock/resume", data={"csrf": csrf})
    assert 'data-testid="freeze"' in client.get("/dashboard/clock").text


def test_credentials_page_shows_every_mounted_dialect_and_balance_page_the_money(client: TestClient) -> None:
    pay = create(client)
    csrf = sign_in(client)
    page = html.unescape(client.get("/dashboard/credentials").text)
    for name in client.app.state.dialects:  # type: ignore[attr-defined]
        assert f'data-testid="door-{name}"' in page and f'data-testid="snippet-{name}"' in page
    assert "kasse-sandbox-secret" in page and 'stripe.api_base = "http://127.0.0.1:8000/stripe"' in page
    client.post(f"/dashboard/payments/{pay['id']}/approve", data={"csrf": csrf})
    balance = client.get("/dashboard/balance").text
    assert 'data-testid="pending-EUR">25.00 EUR' in balance


def test_a_merchant_sees_only_its_own_payments(client: TestClient, kasse: Kasse) -> None:
    pay = create(client)
    other = create_merchant(kasse, name="Other shop")
    sign_in(client, other.secret_key)
    assert client.get(f"/dashboard/payments/{pay['id']}").status_code == 404
    assert pay["id"] not in client.get("/dashboard").text
    assert "(shown once, at creation)" in client.get("/dashboard/credentials").text


@pytest.mark.parametrize("path", ["/dashboard/payments/pay_x/approve", "/dashboard/clock/advance", "/dashboard/logout"])
def test_posts_without_a_session_go_to_sign_in(client: TestClient, path: str) -> None:
    r = client.post(path, data={"csrf": "x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/login"
