"""secuconnect through pretix-secuconnect's own API client and raw HTTP against a live Kasse, on SQLite and
PostgreSQL: OAuth tokens (JSON and form), Smart Transactions, the seed's ``prepare/sofort``, payment
transactions with their simple status, settlement on the merchant's clock, refunds through ``cancel``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kasse.engine.merchants import SANDBOX
from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from tests.conftest import LiveServer
from tests.helpers import check
from tests.secu_helpers import (
    DAY_S,
    PaymentStatusSimple,
    SecuconnectException,
    act_on_sofort_page,
    advance,
    live_kasse,
    secuconnect,
    smart_body,
    token,
)

SHOP = "http://shop.example"


@pytest.fixture
def live(database: Database) -> Iterator[tuple[LiveServer, Kasse]]:
    server, kasse = live_kasse(database)
    with server:
        yield server, kasse


@pytest.fixture
def server(live: tuple[LiveServer, Kasse]) -> LiveServer:
    return live[0]


@pytest.fixture
def client(server: LiveServer) -> Any:
    return secuconnect(server)


def paid(client: Any, amount: int = 1000) -> tuple[dict[str, Any], str]:
    """A Smart Transaction the customer approved on the Sofort page with the test account; its PCI id."""
    stx = client.start_smart_transaction(smart_body(SHOP, amount=amount))
    answer = act_on_sofort_page(stx["payment_links"]["sofort"])
    assert answer.status_code == 303 and answer.headers["location"] == f"{SHOP}/success"
    stx = client.fetch_smart_transaction_info(stx["id"])
    return stx, stx["transactions"][0]["id"]


def test_start_as_pretix_does_then_pending_then_ok(server: LiveServer, client: Any) -> None:
    stx = client.start_smart_transaction(smart_body(SHOP))
    assert stx["object"] == "smart.transactions" and stx["id"].startswith("STX_") and len(stx["id"]) == 34
    assert stx["status"] == "created" and stx["transactions"] == []
    assert stx["payment_links"]["sofort"].startswith(f"{server.url}/secuconnect/payment/go/")
    assert stx["basket_info"] == {"sum": 1000, "currency": "EUR"}
    assert stx["customer"]["object"] == "payment.customers" and stx["customer"]["contact"] == "█"  # pretix scrubs
    assert stx["created"].endswith("+00:00")
    stx, pci = paid(client)
    assert stx["status"] == "pending" and stx["payment_method"] == "sofort"
    transaction = client.fetch_payment_transaction_info(pci)
    assert pci.startswith("PCI_") and transaction["id"] == pci and transaction["amount"] == 1000
    assert PaymentStatusSimple(transaction["details"]["status_simple"]) is PaymentStatusSimple.PENDING
    assert transaction["details"]["status_simple_text"] == "pending"
    assert transaction["payment_data"]["iban"] == "88888888" and transaction["related_transactions"] == []
    advance(server, DAY_S - 60, client)
    assert client.fetch_smart_transaction_info(stx["id"])["status"] == "pending"
    advance(server, 60)  # the money settles a day after the approval
    assert client.fetch_smart_transaction_info(stx["id"])["status"] == "ok"
    transaction = client.fetch_payment_transaction_info(pci)
    assert PaymentStatusSimple(transaction["details"]["status_simple"]) is PaymentStatusSimple.ACCEPTED
    assert client.fetch_payment_transaction_status(pci)["amount"] == 1000


def test_partial_and_full_refunds_through_cancel(live: tuple[LiveServer, Kasse], client: Any) -> None:
    server, kasse = live
    _, pci = paid(client)
    advance(server, DAY_S, client)
    listed = client.cancel_payment_transaction(pci, 300)
    assert len(listed) == 2
    parent, child = listed
    assert parent["id"] == pci
    assert child["id"].startswith("PCI_") and child["amount"] == -300 and child["product"] == "Erstattung"
    assert child["parents"][0]["id"] == pci
    assert PaymentStatusSimple(child["details"]["status_simple"]) is PaymentStatusSimple.ACCEPTED
    assert PaymentStatusSimple(parent["details"]["status_simple"]) is PaymentStatusSimple.ACCEPTED
    assert parent["related_transactions"] == [
        {"object": "payment.transactions", "id": child["id"], "hierarchy": "child", "trans_id": child["trans_id"]}
    ]
    assert client.fetch_payment_transaction_status(pci)["amount"] == 700
    assert client.fetch_payment_transaction_info(child["id"])["amount"] == -300
    with pytest.raises(SecuconnectException) as too_much:  # never more than remains
        client.cancel_payment_transaction(pci, 701)
    assert too_much.value.error_object["error"] == "ProductFormatException"
    assert "700" in too_much.value.error_object["error_details"]
    _, last = client.cancel_payment_transaction(pci, 700)
    assert last["amount"] == -700
    parent = client.fetch_payment_transaction_info(pci)
    assert PaymentStatusSimple(parent["details"]["status_simple"]) is PaymentStatusSimple.VOID
    assert len(parent["related_transactions"]) == 2
    assert client.fetch_payment_transaction_status(pci)["amount"] == 0
    with pytest.raises(SecuconnectException):
        client.cancel_payment_transaction(pci, 1)
    check(kasse, SANDBOX.id)


def test_cancel_without_an_amount_refunds_the_rest(server: LiveServer, client: Any) -> None:
    _, pci = paid(client, amount=2500)
    advance(server, DAY_S, client)
    r = httpx.post(f"{server.url}/secuconnect/api/v2/Payment/Transactions/{pci}/cancel", json={},
                   headers={"Authorization": f"Bearer {token(server)}"})  # fmt: skip
    assert r.status_code == 200 and isinstance(r.json(), list)
    assert r.json()[1]["amount"] == -2500
    assert client.fetch_payment_transaction_status(pci)["amount"] == 0


def test_a_refund_of_a_pending_payment_waits_for_the_money(live: tuple[LiveServer, Kasse], client: Any) -> None:
    server, kasse = live
    _, pci = paid(client)
    _, child = client.cancel_payment_transaction(pci, 400)
    assert PaymentStatusSimple(child["details"]["status_simple"]) is PaymentStatusSimple.REFUND
    advance(server, DAY_S, client)
    child = client.fetch_payment_transaction_info(child["id"])
    assert PaymentStatusSimple(child["details"]["status_simple"]) is PaymentStatusSimple.ACCEPTED
    check(kasse, SANDBOX.id)


def test_the_seeds_custom_checkout_with_raw_http(server: LiveServer) -> None:
    """The seed's ``prepare/sofort``: a form-encoded token (the PHP SDK's way), the callback URLs."""
    headers = {"Authorization": f"Bearer {token(server, form=True)}", "Accept": "application/json"}
    api = f"{server.url}/secuconnect/api/v2"
    body = {"is_demo": True, "intent": "sale", "basket_info": {"sum": 4990, "currency": "EUR"}}
    created = httpx.post(f"{api}/Smart/Transactions", json=body, headers=headers).json()
    callbacks = {"success_url": f"{SHOP}/sofort/ok", "failure_url": f"{SHOP}/sofort/failed"}
    r = httpx.post(f"{api}/Smart/Transactions/{created['id']}/prepare/sofort", json={"callback_urls": callbacks},
                   headers=headers)  # fmt: skip
    assert r.status_code == 200, r.text
    prepared = r.json()
    assert (prepared["object"], prepared["status"], prepared["payment_method"]) == (
        "smart.transactions", "created", "sofort",
    )  # fmt: skip
    assert isinstance(prepared["trans_id"], int) and prepared["trans_id"] > 0
    assert prepared["iframe_url"].startswith(f"{server.url}/secuconnect/payment/go/")
    answer = act_on_sofort_page(prepared["iframe_url"])
    assert answer.headers["location"] == f"{SHOP}/sofort/ok"
    assert httpx.get(f"{api}/Smart/Transactions/{created['id']}", headers=headers).json()["status"] == "pending"


def test_a_declined_payment_goes_to_the_failure_url(server: LiveServer, client: Any) -> None:
    stx = client.start_smart_transaction(smart_body(SHOP))
    answer = act_on_sofort_page(stx["payment_links"]["sofort"], "decline")
    assert answer.headers["location"] == f"{SHOP}/fail"
    stx = client.fetch_smart_transaction_info(stx["id"])
    assert stx["status"] == "failed"
    transaction = client.fetch_payment_transaction_info(stx["transactions"][0]["id"])
    assert PaymentStatusSimple(transaction["details"]["status_simple"]) is PaymentStatusSimple.DENIED


def test_abort_by_the_shop_and_by_the_customer(server: LiveServer, client: Any) -> None:
    headers = {"Authorization": f"Bearer {token(server)}"}
    first = client.start_smart_transaction(smart_body(SHOP))
    r = httpx.post(f"{server.url}/secuconnect/api/v2/Smart/Transactions/{first['id']}/abort", headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["transactions"] == []
    second = client.start_smart_transaction(smart_body(SHOP))
    assert act_on_sofort_page(second["payment_links"]["sofort"], "cancel").headers["location"] == f"{SHOP}/abort"
    assert client.fetch_smart_transaction_info(second["id"])["status"] == "cancelled"
    again = httpx.post(f"{server.url}/secuconnect/api/v2/Smart/Transactions/{second['id']}/cancel", headers=headers)
    assert again.status_code == 409 and again.json()["error"] == "ProductNotAllowedException"


def test_tokens_json_and_form_expire_after_1200_seconds_on_the_merchants_clock(server: LiveServer) -> None:
    url = f"{server.url}/secuconnect/oauth/token"
    data = {"grant_type": "client_credentials", "client_id": SANDBOX.secuconnect_client_id,
            "client_secret": SANDBOX.secuconnect_client_secret}  # fmt: skip
    for answer in (httpx.post(url, json=data), httpx.post(url, data=data)):
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
        assert body["expires_in"] == 1200 and body["token_type"] == "bearer" and len(body["access_token"]) == 26
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    probe = f"{server.url}/secuconnect/api/v2/Smart/Transactions/STX_0000000000000000000000000000000"
    assert httpx.get(probe, headers=headers).json()["error"] == "ProductNotFoundException"
    advance(server, 1199)
    assert httpx.get(probe, headers=headers).status_code == 404
    advance(server, 1)
    lapsed = httpx.get(probe, headers=headers)
    assert lapsed.status_code == 403 and lapsed.json()["error_details"] == "Valid auth token required"
    assert lapsed.json()["code"] == 2003 and lapsed.json()["status"] == "error"


def test_sofort_is_captured_with_the_authorization_even_without_auto_capture(server: LiveServer, client: Any) -> None:
    """The seed: "always captured with the authorisation, even if auto_capture is set to false"."""
    body = smart_body(SHOP, intent="order", payment_context={"auto_capture": False})
    stx = client.start_smart_transaction(body)
    assert stx["payment_context"] == {"auto_capture": False}
    act_on_sofort_page(stx["payment_links"]["sofort"])
    assert client.fetch_smart_transaction_info(stx["id"])["status"] == "pending"  # never "approved"
    advance(server, DAY_S, client)
    assert client.fetch_smart_transaction_info(stx["id"])["status"] == "received"  # an order, paid
