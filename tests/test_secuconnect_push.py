"""secuconnect's push notifications to ``url_push``, on SQLite and PostgreSQL: the ``event.pushes`` body,
unsigned, one per change of the simple status and per refund child; re-read through pretix-secuconnect's
client; sent again until the shop answers 200, for 24 hours on the merchant's clock, then dropped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kasse.storage.db import Database
from tests.conftest import AUTH, LiveServer
from tests.secu_helpers import (
    DAY_S,
    PaymentStatusSimple,
    Pushes,
    act_on_sofort_page,
    advance,
    live_kasse,
    recorded_attempts,
    secuconnect,
    smart_body,
    wait_until,
)

SHOP = "http://shop.example"


@pytest.fixture
def server(database: Database) -> Iterator[LiveServer]:
    live, _ = live_kasse(database)
    with live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Any:
    return secuconnect(server)


@pytest.fixture
def pushes() -> Iterator[Pushes]:
    yield from Pushes().start()


def test_the_push_body_and_headers(server: LiveServer, client: Any, pushes: Pushes) -> None:
    stx = client.start_smart_transaction(smart_body(SHOP, push=pushes.url))
    act_on_sofort_page(stx["payment_links"]["sofort"])
    wait_until(lambda: len(pushes.received) == 1)
    push, headers = pushes.received[0], pushes.headers[0]
    pci = client.fetch_smart_transaction_info(stx["id"])["transactions"][0]["id"]
    assert set(push) == {"object", "id", "created", "target", "type", "data"}
    assert push["object"] == "event.pushes" and push["id"].startswith("evt_") and push["type"] == "changed"
    assert push["target"] == "payment.transactions" and push["created"].endswith("+00:00")
    assert push["data"] == [{"object": "payment.transactions", "id": pci}]
    assert headers["Content-Type"] == "application/json"
    assert not [h for h in headers if "signature" in h.lower() or h.lower().startswith("webhook-")]  # unsigned
    transaction = client.fetch_payment_transaction_info(pci)
    assert PaymentStatusSimple(transaction["details"]["status_simple"]) is PaymentStatusSimple.PENDING


def test_one_push_per_change_and_per_refund_child(server: LiveServer, client: Any, pushes: Pushes) -> None:
    stx = client.start_smart_transaction(smart_body(SHOP, push=pushes.url))
    act_on_sofort_page(stx["payment_links"]["sofort"])
    pci = client.fetch_smart_transaction_info(stx["id"])["transactions"][0]["id"]
    wait_until(lambda: len(pushes.received) == 1)
    advance(server, DAY_S, client)
    wait_until(lambda: len(pushes.received) == 2)
    client.cancel_payment_transaction(pci, 100)
    wait_until(lambda: len(pushes.received) == 3)
    client.cancel_payment_transaction(pci, 900)
    wait_until(lambda: len(pushes.received) == 4)
    seen = []
    for push in pushes.received:
        transaction = client.fetch_payment_transaction_info(push["data"][0]["id"])
        seen.append((push["type"], transaction["details"]["status_simple_text"]))
    # Re-read now, every push shows the transaction as it is now (fully refunded: void).
    assert [t for t, _ in seen] == ["changed", "changed", "added", "added"] and {s for _, s in seen} == {"void"}
    assert len({p["id"] for p in pushes.received}) == 4
    advance(server, 60)
    assert len(pushes.received) == 4


def test_a_declined_payment_is_pushed_denied(server: LiveServer, client: Any, pushes: Pushes) -> None:
    stx = client.start_smart_transaction(smart_body(SHOP, push=pushes.url))
    act_on_sofort_page(stx["payment_links"]["sofort"], "decline")
    wait_until(lambda: len(pushes.received) == 1)
    transaction = client.fetch_payment_transaction_info(pushes.received[0]["data"][0]["id"])
    assert PaymentStatusSimple(transaction["details"]["status_simple"]) is PaymentStatusSimple.DENIED


def test_pushes_are_sent_again_until_200_for_24_hours(server: LiveServer, client: Any, pushes: Pushes) -> None:
    pushes.status = 500
    stx = client.start_smart_transaction(smart_body(SHOP, push=pushes.url))
    act_on_sofort_page(stx["payment_links"]["sofort"])
    wait_until(lambda: recorded_attempts(server) == 1)
    advance(server, 59)
    assert len(pushes.received) == 1
    advance(server, 1)
    assert len(pushes.received) == 2
    made = 2
    for wait_s in (300, 900, 1800, 3600, 7200, 14_400, 28_800, 28_800):
        advance(server, wait_s)
        made += 1
        assert len(pushes.received) == made
    assert made == 10  # the last one 23 h 51 min after the first
    advance(server, 500)  # 24 h after the first attempt, shortly before the money settles
    assert len(pushes.received) == 10  # discarded
    assert len({p["id"] for p in pushes.received}) == 1  # the same push each time
    advance(server, 100)  # the settlement is a change of its own: a new push
    later = {p["id"] for p in pushes.received[10:]}
    assert len(later) == 1 and pushes.received[0]["id"] not in later


def test_a_202_is_not_an_acknowledgement_but_200_is(server: LiveServer, client: Any, pushes: Pushes) -> None:
    pushes.status = 202
    stx = client.start_smart_transaction(smart_body(SHOP, push=pushes.url))
    act_on_sofort_page(stx["payment_links"]["sofort"])
    wait_until(lambda: recorded_attempts(server) == 1)
    pushes.status = 200
    advance(server, 60)
    assert len(pushes.received) == 2
    advance(server, 3 * 3600)
    assert len(pushes.received) == 2
    events = httpx.get(f"{server.url}/api/v1/events", params={"limit": 100}, headers=AUTH).json()["data"]
    assert any(e["type"].startswith("secuconnect:order.") for e in events)
