"""The Sofort page of a secuconnect Smart Transaction over HTTP, on SQLite and PostgreSQL: never framed,
no caching, the CSRF check, the 88888888 test account (anything else: a warning and no change), the way
back to the shop, expiry on the merchant's clock. (The browser tests click through it for real.)"""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from kasse.engine.unit import Kasse
from tests.conftest import AUTH
from tests.helpers import dump
from tests.secu_helpers import CLIENT_ID, CLIENT_SECRET, DAY_S, smart_body

SHOP = "http://shop.example"


def _api(client: TestClient) -> dict[str, str]:
    data = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    return {"Authorization": f"Bearer {client.post('/secuconnect/oauth/token', json=data).json()['access_token']}"}


def _start(client: TestClient) -> tuple[dict[str, Any], str]:
    stx = client.post("/secuconnect/api/v2/Smart/Transactions", json=smart_body(SHOP), headers=_api(client)).json()
    return stx, stx["payment_links"]["sofort"].removeprefix("http://127.0.0.1:8000")


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def _status(client: TestClient, stx: dict[str, Any]) -> str:
    got = client.get(f"/secuconnect/api/v2/Smart/Transactions/{stx['id']}", headers=_api(client))
    return str(got.json()["status"])


def test_the_page_is_never_framed_nor_cached(client: TestClient) -> None:
    _, path = _start(client)
    page = client.get(path)
    assert page.status_code == 200 and "88888888" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    css = client.get(f"{path.rsplit('/', 1)[0]}/static/kasse.css")
    assert css.status_code == 200 and ".warning" in css.text


def test_another_account_is_refused_with_a_warning_and_nothing_changes(client: TestClient, kasse: Kasse) -> None:
    stx, path = _start(client)
    csrf = _csrf(client, path)
    before = dump(kasse)
    for account in ("DE89370400440532013000", "COBADEFFXXX", "8888888", ""):
        answer = client.post(path, data={"action": "approve", "csrf": csrf, "iban": account, "lang": "en"})
        assert answer.status_code == 422 and 'data-testid="warning"' in answer.text
        assert "real Sofort payment" in answer.text
        assert answer.headers["x-frame-options"] == "DENY"
    assert dump(kasse) == before
    ok = client.post(path, data={"action": "approve", "csrf": csrf, "iban": "8888 8888"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == f"{SHOP}/success"
    assert _status(client, stx) == "pending"


def test_the_form_needs_its_csrf_value_and_a_known_action(client: TestClient, kasse: Kasse) -> None:
    stx, path = _start(client)
    csrf = _csrf(client, path)  # the merchant's page key is made at the first view
    before = dump(kasse)
    assert client.post(path, data={"action": "approve", "iban": "88888888"}).status_code == 403
    assert client.post(path, data={"action": "steal", "csrf": csrf}).status_code == 400
    assert client.post(path, data={"action": "approve", "csrf": "x" * 43, "iban": "88888888"}).status_code == 403
    assert dump(kasse) == before
    assert _status(client, stx) == "created"


def test_unknown_pages_and_other_dialects_payments_are_not_found(client: TestClient) -> None:
    assert client.get("/secuconnect/payment/go/nope").status_code == 404
    native = client.post("/api/v1/payments", json={"amount": 1000, "currency": "EUR", "method": "sofort",
                                                   "return_url": f"{SHOP}/r"}, headers=AUTH).json()  # fmt: skip
    token = native["next_action"]["redirect_url"].rsplit("/", 1)[1]
    assert client.get(f"/secuconnect/payment/go/{token}").status_code == 404


def test_an_unpaid_smart_transaction_expires_after_a_day(client: TestClient) -> None:
    stx, path = _start(client)
    moved = client.post("/_sandbox/clock/advance", json={"seconds": DAY_S}, headers=AUTH)
    assert moved.status_code == 200, moved.text
    assert _status(client, stx) == "cancelled"
    page = client.get(path)
    assert page.status_code == 409 and f'href="{SHOP}/abort"' in page.text
