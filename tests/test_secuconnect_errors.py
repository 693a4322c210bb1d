"""Every bad input to the secuconnect dialect is answered in secuconnect's error shape — HTTP status other
than 200, ``{"status": "error", "error", "error_details", "error_user", "code", "supportId"}`` — with
nothing written (every table as before), on SQLite and PostgreSQL; pretix-secuconnect's client turns each
into its ``SecuconnectException``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kasse.engine.merchants import create_merchant
from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from tests.conftest import LiveServer
from tests.helpers import dump
from tests.secu_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    DAY_S,
    SecuconnectException,
    act_on_sofort_page,
    advance,
    live_kasse,
    secuconnect,
    smart_body,
    token,
)

SHOP = "http://shop.example"
SHAPE = {"status", "error", "error_details", "error_user", "code", "supportId"}


@pytest.fixture
def live(database: Database) -> Iterator[tuple[LiveServer, Kasse]]:
    server, kasse = live_kasse(database)
    with server:
        yield server, kasse


@pytest.fixture
def server(live: tuple[LiveServer, Kasse]) -> LiveServer:
    return live[0]


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token(server)}"}
    with httpx.Client(base_url=f"{server.url}/secuconnect", headers=headers, timeout=10) as client:
        yield client


def refused(kasse: Kasse, send: Any, status: int, error: str) -> dict[str, Any]:
    """``send()`` is answered ``status`` with ``error`` in secuconnect's shape, and changes no row."""
    before = dump(kasse)
    answer: httpx.Response = send()
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == SHAPE and body["status"] == "error" and body["error"] == error, body
    assert isinstance(body["code"], int) and body["error_details"] and len(body["supportId"]) == 32
    assert dump(kasse) == before, "a refused request changed the database"
    return body


def test_token_requests(live: tuple[LiveServer, Kasse]) -> None:
    server, kasse = live
    url = f"{server.url}/secuconnect/oauth/token"
    good = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    wrong = {**good, "client_secret": "not-the-secret"}
    for send in (lambda: httpx.post(url, json=wrong), lambda: httpx.post(url, data=wrong)):
        body = refused(kasse, send, 401, "ProductNotAllowedException")
        assert body["error_details"] == "Invalid client credentials"
    refused(kasse, lambda: httpx.post(url, json={**good, "client_id": "nobody"}), 401, "ProductNotAllowedException")
    body = refused(kasse, lambda: httpx.post(url, json={**good, "grant_type": "password"}), 400,
                   "ProductFormatException")  # fmt: skip
    assert "grant_type" in body["error_details"]
    missing = {k: v for k, v in good.items() if k != "client_secret"}
    body = refused(kasse, lambda: httpx.post(url, data=missing), 400, "ProductMissingParametersException")
    assert "client_secret" in body["error_details"]
    refused(kasse, lambda: httpx.post(url, content=b"{not json", headers={"Content-Type": "application/json"}), 400,
            "ProductFormatException")  # fmt: skip
    refused(kasse, lambda: httpx.post(url, json=["a", "list"]), 400, "ProductFormatException")


def test_bad_tokens_through_the_client(live: tuple[LiveServer, Kasse]) -> None:
    server, kasse = live
    with pytest.raises(Exception, match="401"):  # the token request itself fails: requests' HTTPError
        secuconnect(server, client_secret="wrong").start_smart_transaction(smart_body(SHOP))
    client = secuconnect(server)
    client.cache.set("payment_secuconnect_auth_token", "qb56tjj1bcvo9n2nj4u38k84lo", 1200)
    before = dump(kasse)
    with pytest.raises(SecuconnectException) as info:
        client.start_smart_transaction(smart_body(SHOP))
    assert info.value.error_object["code"] == 2003 and info.value.error_object["error"] == "ProductNotAllowedException"
    assert dump(kasse) == before
    stx = f"{server.url}/secuconnect/api/v2/Smart/Transactions"
    refused(kasse, lambda: httpx.post(stx, json=smart_body(SHOP)), 403, "ProductNotAllowedException")
    refused(kasse, lambda: httpx.post(stx, json=smart_body(SHOP), headers={"Authorization": "Basic eDp5"}), 403,
            "ProductNotAllowedException")  # fmt: skip


@pytest.mark.parametrize(
    ("change", "error", "names"),
    [
        ({"basket_info": None}, "ProductMissingParametersException", "basket_info"),
        ({"basket_info": {"currency": "EUR"}}, "ProductMissingParametersException", "basket_info.sum"),
        ({"basket_info": {"sum": "10.00", "currency": "EUR"}}, "ProductFormatException", "basket_info.sum"),
        ({"basket_info": {"sum": 0, "currency": "EUR"}}, "ProductFormatException", "basket_info.sum"),
        ({"basket_info": {"sum": 1000, "currency": "USD"}}, "ProductFormatException", "USD"),
        ({"basket_info": {"sum": 1000, "currency": "EURO"}}, "ProductFormatException", "currency"),
        ({"intent": "lottery"}, "ProductFormatException", "intent"),
        ({"is_demo": "yes"}, "ProductFormatException", "is_demo"),
        ({"merchantRef": "x" * 256}, "ProductFormatException", "merchantRef"),
        ({"application_context": {"return_urls": {"url_success": "javascript:alert(1)"}}}, "ProductFormatException",
         "url_success"),
        ({"application_context": {"return_urls": {"url_push": "ftp://shop.example/push"}}}, "ProductFormatException",
         "url_push"),
        ({"payment_context": {"auto_capture": "no"}}, "ProductFormatException", "auto_capture"),
        ({"customer": "Jane"}, "ProductFormatException", "customer"),
    ],
)  # fmt: skip
def test_bad_smart_transactions(
    live: tuple[LiveServer, Kasse], api: httpx.Client, change: dict[str, Any], error: str, names: str
) -> None:
    body = {k: v for k, v in {**smart_body(SHOP), **change}.items() if v is not None}
    answer = refused(live[1], lambda: api.post("/api/v2/Smart/Transactions", json=body), 400, error)
    assert names in answer["error_details"]


def test_bad_bodies_and_unknown_objects(live: tuple[LiveServer, Kasse], api: httpx.Client) -> None:
    kasse = live[1]
    post = "/api/v2/Smart/Transactions"
    refused(kasse, lambda: api.post(post, content=b"{", headers={"Content-Type": "application/json"}), 400,
            "ProductFormatException")  # fmt: skip
    refused(kasse, lambda: api.post(post, json=[1, 2]), 400, "ProductFormatException")
    for unknown in ("STX_NOPE", "STX_01M8R1W06FSGFXBM7TF0BZZ0P30PAY", "PCI_01M8R1W06FSGFXBM7TF0BZZ0P30SMT"):
        refused(kasse, lambda u=unknown: api.get(f"{post}/{u}"), 404, "ProductNotFoundException")  # type: ignore[misc]
    refused(kasse, lambda: api.get("/api/v2/Payment/Transactions/PCI_NOPE"), 404, "ProductNotFoundException")
    refused(kasse, lambda: api.get("/api/v2/Payment/Transactions/PCI_NOPE/checkStatus"), 404,
            "ProductNotFoundException")  # fmt: skip
    refused(kasse, lambda: api.get("/api/v2/Payment/Secupayprepays/1"), 404, "ProductNotFoundException")
    refused(kasse, lambda: api.post("/oauth/revoke"), 404, "ProductNotFoundException")


def test_prepare_errors(live: tuple[LiveServer, Kasse], api: httpx.Client) -> None:
    kasse = live[1]
    stx = api.post("/api/v2/Smart/Transactions", json=smart_body(SHOP)).json()
    base = f"/api/v2/Smart/Transactions/{stx['id']}"
    refused(kasse, lambda: api.post(f"{base}/prepare/paypal", json={}), 400, "ProductFormatException")
    refused(kasse, lambda: api.post(f"{base}/prepare/sofort", json={"callback_urls": {"success_url": "nope"}}),
            400, "ProductFormatException")  # fmt: skip
    refused(kasse, lambda: api.post(f"{base}/prepare/sofort", json={"callback_urls": "x"}), 400,
            "ProductFormatException")  # fmt: skip
    seed = {"callback_urls": {"success_url": "", "failure_url": ""}}  # the seed's example: the STX's URLs apply
    prepared = api.post(f"{base}/prepare/sofort", json=seed).json()
    assert prepared["payment_method"] == "sofort"
    assert act_on_sofort_page(prepared["iframe_url"]).headers["location"] == f"{SHOP}/success"
    refused(kasse, lambda: api.post(f"{base}/prepare/sofort", json={}), 409, "ProductNotAllowedException")
    refused(kasse, lambda: api.post(f"{base}/abort"), 409, "ProductNotAllowedException")


def test_refund_errors(live: tuple[LiveServer, Kasse], api: httpx.Client) -> None:
    server, kasse = live
    stx = api.post("/api/v2/Smart/Transactions", json=smart_body(SHOP)).json()
    unpaid = stx["id"].replace("STX_", "PCI_").replace("0SMT", "0PAY")
    refused(kasse, lambda: api.post(f"/api/v2/Payment/Transactions/{unpaid}/cancel", json={}), 404,
            "ProductNotFoundException")  # fmt: skip
    act_on_sofort_page(stx["payment_links"]["sofort"])
    pci = api.get(f"/api/v2/Smart/Transactions/{stx['id']}").json()["transactions"][0]["id"]
    cancel = f"/api/v2/Payment/Transactions/{pci}/cancel"
    for bad in ({"reduce_amount_by": 0}, {"reduce_amount_by": -5}, {"reduce_amount_by": "100"},
                {"reduce_amount_by": 1.5}, {"reason": "ä" * 3}, {"reason": "x" * 101}):  # fmt: skip
        refused(kasse, lambda b=bad: api.post(cancel, json=b), 400, "ProductFormatException")  # type: ignore[misc]
    body = refused(kasse, lambda: api.post(cancel, json={"reduce_amount_by": 1001}), 400, "ProductFormatException")
    assert body["code"] == 3003 and "1000" in body["error_details"]
    advance(server, DAY_S)
    headers = {"Authorization": f"Bearer {token(server)}"}  # the first token lapsed with the day
    child = httpx.post(f"{server.url}/secuconnect{cancel}", json={"reduce_amount_by": 1000}, headers=headers)
    child_id = child.json()[1]["id"]
    again = f"{server.url}/secuconnect/api/v2/Payment/Transactions"
    refused(kasse, lambda: httpx.post(f"{again}/{child_id}/cancel", json={}, headers=headers), 409,
            "ProductNotAllowedException")  # fmt: skip
    refused(kasse, lambda: httpx.post(f"{again}/{pci}/cancel", json={"reduce_amount_by": 1}, headers=headers), 409,
            "ProductNotAllowedException")  # fmt: skip


def test_another_merchants_objects_are_not_found(live: tuple[LiveServer, Kasse], api: httpx.Client) -> None:
    server, kasse = live
    stx = api.post("/api/v2/Smart/Transactions", json=smart_body(SHOP)).json()
    other = create_merchant(kasse, name="Other shop")
    client = secuconnect(server, other.secuconnect_client_id, other.secuconnect_client_secret)
    with pytest.raises(SecuconnectException) as info:
        client.fetch_smart_transaction_info(stx["id"])
    assert info.value.error_object["error"] == "ProductNotFoundException"
