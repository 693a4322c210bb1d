"""Helpers of the PAYONE dialect tests. PAYONE has no standalone client (clients.md §7.4): the harness
replays the exact parameter sets of pretix-payone (md5 key, JSON answers), PAYONE's Shopware 6 plugin
(sha384 key, JSON answers) and WooCommerce (sha384 key, key=value answers) and the seed's literal payloads,
with the sandbox merchant's credentials substituted."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import httpx

from kasse.dialects.payone import ids
from kasse.domain.models import Payment
from kasse.engine.merchants import SANDBOX
from kasse.engine.unit import Kasse
from tests.conftest import AUTH

GATEWAY = "/payone/post-gateway/"
PORTAL_KEY = SANDBOX.payone_key
MD5 = hashlib.md5(PORTAL_KEY.encode()).hexdigest()
SHA384 = hashlib.sha384(PORTAL_KEY.encode()).hexdigest()
DAY_S = 86_400


def creds(key: str = MD5) -> dict[str, str]:
    return {"mid": SANDBOX.payone_mid, "aid": SANDBOX.payone_aid, "portalid": SANDBOX.payone_portalid, "key": key}


def pretix_common(key: str = MD5) -> dict[str, str]:
    """pretix-payone ``_default_params`` (payment.py)."""
    return {**creds(key), "api_version": "3.11", "mode": "test", "encoding": "UTF-8",
            "integrator_name": "rami.io GmbH", "integrator_version": "1.4.3", "solution_name": "pretix",
            "solution_version": "2026.8.0"}  # fmt: skip


def shopware_common(key: str = SHA384) -> dict[str, str]:
    """PAYONE's Shopware 6 plugin (``RequestParameterFactory``): sha384 key, api_version 3.10."""
    return {**creds(key), "api_version": "3.10", "mode": "test", "encoding": "UTF-8",
            "integrator_name": "shopware6", "integrator_version": "6.5.0", "solution_name": "kellerkinder",
            "solution_version": "5.1.0"}  # fmt: skip


def seed_payload(text: str, key: str = MD5) -> dict[str, str]:
    """A seed 003 payload as printed (``name=value`` separated by blanks or lines, values may contain
    blanks), with the sandbox merchant's mid/aid/portalid/key in place of the seed's."""
    pairs = re.findall(r"(\S+?)=(.*?)(?=\s+[a-z_]+(?:\[[^\]]+\])?=|\s*$)", text.strip(), flags=re.S)
    form = {name: value.strip() for name, value in pairs}
    form.update(creds(key))
    return form


def sofort_order(shop: str, **extra: str) -> dict[str, Any]:
    """pretix-payone's Sofort authorization (``PayoneSofort._get_payment_params``)."""
    return {"request": "authorization", "reference": "ABC12-P-1_Event", "amount": 1000, "currency": "EUR",
            "param": "event-ABC12-P-1", "narrative_text": "ABC12-P-1 Event", "customer_is_present": "yes",
            "recurrence": "none", "clearingtype": "sb", "onlinebanktransfertype": "PNT", "bankcountry": "DE",
            "successurl": f"{shop}/s", "errorurl": f"{shop}/e", "backurl": f"{shop}/b", "lastname": "Doe",
            "firstname": "Jane", "country": "DE", "language": "de", **extra}  # fmt: skip


def klarna_session(**extra: str) -> dict[str, str]:
    """Shopware 6's Klarna start_session (``Provider/Klarna``), its test-credentials cart."""
    return {"request": "genericpayment", "clearingtype": "fnc", "financingtype": "KIV",
            "add_paydata[action]": "start_session", "amount": "100", "country": "DE", "currency": "EUR",
            "lastname": "Approved", "firstname": "Testperson-de", "email": "customer+de@klarna.com",
            "it[1]": "goods", "id[1]": "5013210425384", "pr[1]": "100", "de[1]": "Test product", "no[1]": "1",
            **extra}  # fmt: skip


def lines(text: str) -> dict[str, str]:
    """woocommerce-3's reader: one ``key=value`` per line, split at the first ``=``."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def post(client: Any, form: Mapping[str, Any], *, json: bool = False) -> dict[str, Any]:
    """One Server API request; the answer as the client reads it (JSON, or key=value lines)."""
    headers = {"Accept": "application/json"} if json else {}
    r = client.post(GATEWAY, data={k: str(v) for k, v in form.items()}, headers=headers)
    assert r.status_code == 200, r.text
    if json:
        assert r.headers["content-type"].startswith("application/json")
        body: dict[str, Any] = r.json()
        return body
    assert r.headers["content-type"].startswith("text/plain")
    return lines(r.text)


def approve_in_sandbox(client: Any, client_token: str, approve: bool = True) -> dict[str, Any]:
    r = client.post("/_sandbox/klarna/authorize", json={"client_token": client_token, "approve": approve},
                    headers=AUTH)  # fmt: skip
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def advance(client: Any, seconds: float) -> dict[str, Any]:
    r = client.post("/_sandbox/clock/advance", json={"seconds": seconds}, headers=AUTH)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def set_status_url(client: Any, url: str | None) -> httpx.Response | Any:
    return client.patch("/api/v1/merchant", json={"payone": {"transaction_status_url": url}}, headers=AUTH)


def payment_of(kasse: Kasse, txid: str) -> Payment:
    """The engine's payment behind a txid (``external_ids``)."""
    with kasse.read() as store:
        payment = ids.find_payment(store, merchant_id=SANDBOX.id, txid=txid)
    assert payment is not None, txid
    return payment
