"""The hosted bank and Klarna pages over HTTP: rendering in both languages, the headers, the customer's
three answers as plain form posts, CSRF, and payments that are no longer open."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from kasse.domain.models import Method
from kasse.domain.urls import with_query_param
from kasse.engine import payments
from kasse.engine.merchants import SANDBOX
from kasse.engine.unit import Kasse
from kasse.pages.i18n import LANGUAGES, MESSAGES, format_amount, pick_language
from tests.conftest import AUTH

SHOP_RETURN = "https://shop.example/return"
SHOP_CANCEL = "https://shop.example/cancel"
MERCHANT_NAME = "Kasse Sandbox Shop"


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {
        "amount": 1000, "currency": "EUR", "method": "sofort", "country": "DE",
        "return_url": SHOP_RETURN, "cancel_url": SHOP_CANCEL, **fields,
    }  # fmt: skip
    r = client.post("/api/v1/payments", json={k: v for k, v in body.items() if v is not None}, headers=AUTH)
    assert r.status_code == 201, r.text
    payment: dict[str, Any] = r.json()
    return payment


def create_without_urls(kasse: Kasse) -> dict[str, Any]:
    """The native API insists on a return URL; other dialects (Klarna) may give none, so go to the engine."""
    with kasse.unit(merchant_id=SANDBOX.id) as tx:
        payment = payments.create_payment(
            tx, payments.CreatePayment(origin="native", amount_minor=1000, currency="EUR", method=Method.SOFORT)
        )
    return {"id": payment.id, "next_action": {"redirect_url": f"http://x/pay/{payment.redirect_token}"}}


def page_path(payment: dict[str, Any]) -> str:
    return urlsplit(payment["next_action"]["redirect_url"]).path


def status_of(client: TestClient, payment: dict[str, Any]) -> str:
    r = client.get(f"/api/v1/payments/{payment['id']}", headers=AUTH)
    assert r.status_code == 200
    return str(r.json()["status"])


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None, "no CSRF field on the page"
    return match.group(1)


def answer(client: TestClient, path: str, action: str, *, lang: str = "de") -> Response:
    """What the browser does: load the page, then submit one of its buttons."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    data = {"csrf": csrf_of(page.text), "lang": lang, "action": action, "iban": "DE89370400440532013000"}
    return client.post(path, data=data, follow_redirects=False)


def transfer_count(client: TestClient) -> int:
    return len(client.get("/api/v1/ledger/transfers?limit=100", headers=AUTH).json()["data"])


def assert_page_headers(r: Response) -> None:
    assert r.headers["x-frame-options"] == "DENY"
    csp = r.headers["content-security-policy"]
    for directive in ("frame-ancestors 'none'", "default-src 'self'", "script-src 'none'", "style-src 'self'"):
        assert directive in csp
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"


# Rendering


def test_bank_page_in_german(client: TestClient) -> None:
    payment = create(client, description="Bestellung 4711", reference="ORDER-4711")
    r = client.get(page_path(payment))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="de">' in html
    assert MERCHANT_NAME in html
    assert "10,00 €" in html
    assert "Bestellung 4711" in html and "ORDER-4711" in html
    assert "Sofortüberweisung" in html
    assert 'value="DE89 3704 0044 0532 0130 00"' in html and 'value="COBADEFFXXX"' in html
    for test_id in ("approve", "decline", "cancel"):
        assert f'data-testid="{test_id}"' in html
    assert "<script" not in html
    assert 'href="?lang=en"' in html


def test_bank_page_in_english(client: TestClient) -> None:
    payment = create(client, amount=123456)
    html = client.get(page_path(payment) + "?lang=en").text
    assert '<html lang="en">' in html
    assert "€1,234.56" in html
    assert "Approve payment" in html and "Decline payment" in html
    assert 'href="?lang=de"' in html


@pytest.mark.parametrize(
    ("fields", "headers", "expected"),
    [
        ({}, {}, "de"),
        ({}, {"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}, "en"),
        ({"customer": {"locale": "en-GB"}}, {"Accept-Language": "de-DE"}, "en"),
        ({"country": "NL", "method": "klarna_pay_later"}, {}, "en"),
    ],
)
def test_language_choice(client: TestClient, fields: dict[str, Any], headers: dict[str, str], expected: str) -> None:
    payment = create(client, **fields)
    assert f'<html lang="{expected}">' in client.get(page_path(payment), headers=headers).text


def test_language_query_wins() -> None:
    assert pick_language(query="de", customer_locale="en-US", accept_language="en", country="GB") == "de"
    assert pick_language(query="fr", customer_locale=None, accept_language="fr, en;q=0.4", country="DE") == "en"
    assert pick_language(query=None, customer_locale=None, accept_language="de;q=0, en;q=0.1", country="DE") == "en"
    assert pick_language(query=None, customer_locale=None, accept_language="*", country="AT") == "de"


def test_every_string_in_both_languages() -> None:
    assert all(set(texts) == set(LANGUAGES) and all(texts.values()) for texts in MESSAGES.values())


@pytest.mark.parametrize(
    ("minor", "currency", "lang", "text"),
    [
        (1000, "EUR", "de", "10,00 €"),
        (1000, "EUR", "en", "€10.00"),
        (123456789, "EUR", "de", "1.234.567,89 €"),
        (5, "CHF", "de", "0,05 CHF"),
        (5, "CHF", "en", "CHF 0.05"),
        (1000, "SEK", "en", "SEK 10.00"),
    ],
)
def test_amount_format(minor: int, currency: str, lang: str, text: str) -> None:
    assert format_amount(minor, currency, lang) == text


def test_security_headers_and_cookie(client: TestClient) -> None:
    payment = create(client)
    r = client.get(page_path(payment))
    assert_page_headers(r)
    cookie = r.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert f"Path={page_path(payment)}" in cookie


def test_stylesheet_is_served_from_the_page_path(client: TestClient) -> None:
    html = client.get(page_path(create(client))).text
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert href is not None and href.group(1).startswith("static/kasse.css?v=")
    r = client.get("/pay/" + href.group(1))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/css")
    assert "immutable" in r.headers["cache-control"]
    assert client.get("/pay/static/../app.py").status_code == 404
    assert client.get("/pay/static/missing.css").status_code == 404


def test_unknown_token_is_a_friendly_404(client: TestClient) -> None:
    r = client.get("/pay/not-a-real-token")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Zahlung nicht gefunden" in r.text
    assert_page_headers(r)
    assert "Payment not found" in client.get("/pay/nope?lang=en").text


# The customer's answers


def test_approve_redirects_to_the_shop_with_the_payment_id(client: TestClient) -> None:
    payment = create(client)
    r = answer(client, page_path(payment), "approve")
    assert r.status_code == 303
    assert r.headers["location"] == f"{SHOP_RETURN}?payment_id={payment['id']}"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert status_of(client, payment) == "processing"


def test_decline_fails_the_payment(client: TestClient) -> None:
    payment = create(client)
    r = answer(client, page_path(payment), "decline")
    assert r.status_code == 303
    assert r.headers["location"] == f"{SHOP_RETURN}?payment_id={payment['id']}"
    assert status_of(client, payment) == "failed"


def test_cancel_goes_to_the_cancel_url(client: TestClient) -> None:
    payment = create(client)
    r = answer(client, page_path(payment), "cancel")
    assert r.status_code == 303
    assert r.headers["location"] == f"{SHOP_CANCEL}?payment_id={payment['id']}"
    got = client.get(f"/api/v1/payments/{payment['id']}", headers=AUTH).json()
    assert got["status"] == "canceled"
    assert got["cancellation_reason"] == "requested_by_customer"


def test_return_url_keeps_the_shops_query_and_fragment(client: TestClient) -> None:
    payment = create(client, return_url="https://shop.example/r?order=42&sig=a%2Bb&payment_id=old#done")
    r = answer(client, page_path(payment), "approve")
    assert r.headers["location"] == f"https://shop.example/r?order=42&sig=a%2Bb&payment_id={payment['id']}#done"


def test_with_query_param() -> None:
    assert with_query_param("https://s.example/", "payment_id", "pay_1") == "https://s.example/?payment_id=pay_1"
    assert with_query_param("https://s.example/?a=1&", "payment_id", "p") == "https://s.example/?a=1&payment_id=p"
    assert with_query_param("https://s.example/?payment%5Fid=x", "payment_id", "p") == "https://s.example/?payment_id=p"


def test_without_return_url_a_result_page_is_shown(client: TestClient, kasse: Kasse) -> None:
    payment = create_without_urls(kasse)
    r = answer(client, page_path(payment), "approve", lang="en")
    assert r.status_code == 200
    assert "Payment approved" in r.text and "close this window" in r.text
    assert_page_headers(r)
    assert status_of(client, payment) == "processing"


@pytest.mark.parametrize("origin", ["native", "stripe", "multisafepay"])
@pytest.mark.parametrize("stored", ["javascript:alert(document.cookie)", "https://shop.example/r\r\nSet-Cookie: a=b"])
def test_a_stored_return_url_that_is_not_http_is_never_a_redirect(
    client: TestClient, kasse: Kasse, origin: str, stored: str
) -> None:
    """Rows written before the URL check existed: the page shows its result instead of redirecting."""
    with kasse.unit(merchant_id=SANDBOX.id) as tx:
        payment = payments.create_payment(tx, payments.CreatePayment(
            amount_minor=1000, currency="EUR", method=Method.SOFORT, origin=origin, return_url=stored,
            cancel_url=stored, reference="order-1",
        ))  # fmt: skip
    path = f"/pay/{payment.redirect_token}"
    if origin == "multisafepay":  # its own payment page links the cancel URL
        assert "javascript:" not in client.get(f"/multisafepay/pay/{payment.redirect_token}").text
    r = answer(client, path, "approve", lang="en")
    assert r.status_code == 200 and "location" not in r.headers, r.headers
    assert "Payment approved" in r.text and "javascript:" not in r.text
    assert_page_headers(r)
    again = client.get(path)  # no longer open: the page's link back must not be the stored URL either
    assert "javascript:" not in again.text and "Set-Cookie" not in again.text


def test_cancel_without_cancel_url_uses_the_return_url(client: TestClient) -> None:
    payment = create(client, cancel_url=None)
    r = answer(client, page_path(payment), "cancel")
    assert r.headers["location"] == f"{SHOP_RETURN}?payment_id={payment['id']}"


def test_double_approve_is_harmless(client: TestClient) -> None:
    payment = create(client)
    path = page_path(payment)
    page = client.get(path)
    data = {"csrf": csrf_of(page.text), "lang": "de", "action": "approve"}
    first = client.post(path, data=data, follow_redirects=False)
    transfers = transfer_count(client)
    second = client.post(path, data=data, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    assert status_of(client, payment) == "processing"
    assert transfer_count(client) == transfers
    decline = client.post(path, data={**data, "action": "decline"}, follow_redirects=False)
    assert decline.status_code == 303
    assert status_of(client, payment) == "processing"


# CSRF


@pytest.mark.parametrize("csrf", [None, "", "x" * 43, "ä" * 43])
def test_post_without_the_right_csrf_value_is_refused(client: TestClient, csrf: str | None) -> None:
    payment = create(client)
    path = page_path(payment)
    client.get(path)  # sets the cookie
    data = {"action": "approve"} | ({} if csrf is None else {"csrf": csrf})
    r = client.post(path, data=data, follow_redirects=False)
    assert r.status_code == 403
    assert "Formular abgelaufen" in r.text
    assert_page_headers(r)
    assert status_of(client, payment) == "requires_action"


def test_form_value_of_another_payment_is_refused(client: TestClient) -> None:
    """The form value is bound to its payment's page: a valid cookie and form pair of one payment (which
    anyone can get by opening a page of their own) does not work on another's."""
    mine, victim = create(client), create(client)
    csrf = csrf_of(client.get(page_path(mine)).text)
    cookie = client.cookies.get("kasse_csrf", path=page_path(mine))
    assert cookie is not None and csrf != cookie  # the form carries a signature, not the cookie itself
    client.cookies.set("kasse_csrf", cookie, path=page_path(victim))
    r = client.post(page_path(victim), data={"csrf": csrf, "action": "approve"}, follow_redirects=False)
    assert r.status_code == 403
    assert status_of(client, victim) == "requires_action"


def test_planted_cookie_and_field_pair_is_refused(client: TestClient) -> None:
    """Double-submit alone trusts any equal pair; a site able to plant a cookie (a sibling subdomain)
    could plant one. Without the server's key it cannot make the matching form value."""
    payment = create(client)
    path = page_path(payment)
    client.get(path)
    planted = "p" * 43
    client.cookies.set("kasse_csrf", planted, path=path)
    r = client.post(path, data={"csrf": planted, "action": "approve"}, follow_redirects=False)
    assert r.status_code == 403
    assert status_of(client, payment) == "requires_action"


def test_post_without_the_cookie_is_refused(client: TestClient) -> None:
    payment = create(client)
    path = page_path(payment)
    csrf = csrf_of(client.get(path).text)
    client.cookies.clear()
    r = client.post(path, data={"csrf": csrf, "action": "approve"}, follow_redirects=False)
    assert r.status_code == 403
    assert status_of(client, payment) == "requires_action"


def test_json_post_is_refused(client: TestClient) -> None:
    payment = create(client)
    path = page_path(payment)
    csrf = csrf_of(client.get(path).text)
    r = client.post(path, json={"csrf": csrf, "action": "approve"}, follow_redirects=False)
    assert r.status_code == 403
    assert status_of(client, payment) == "requires_action"


def test_second_page_view_keeps_the_first_tab_working(client: TestClient) -> None:
    payment = create(client)
    path = page_path(payment)
    first_tab = csrf_of(client.get(path).text)
    client.get(path + "?lang=en")
    r = client.post(path, data={"csrf": first_tab, "action": "approve"}, follow_redirects=False)
    assert r.status_code == 303


def test_unknown_action_changes_nothing(client: TestClient) -> None:
    payment = create(client)
    r = answer(client, page_path(payment), "refund")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert status_of(client, payment) == "requires_action"


def test_post_to_unknown_token_is_404(client: TestClient) -> None:
    payment = create(client)
    csrf = csrf_of(client.get(page_path(payment)).text)
    client.cookies.set("kasse_csrf", csrf, path="/pay/unknown")
    r = client.post("/pay/unknown", data={"csrf": csrf, "action": "approve"}, follow_redirects=False)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")


# Klarna


def test_klarna_pay_later_page(client: TestClient) -> None:
    payment = create(client, method="klarna_pay_later", customer={"email": "anna@example.com"})
    html = client.get(page_path(payment) + "?lang=en").text
    assert "theme-klarna" in html and "Klarna." in html
    assert "Pay later in 30 days" in html
    assert "anna@example.com" in html
    assert MERCHANT_NAME in html and "€10.00" in html
    for test_id in ("approve", "decline", "cancel"):
        assert f'data-testid="{test_id}"' in html
    r = answer(client, page_path(payment), "approve")
    assert r.status_code == 303
    assert status_of(client, payment) == "processing"


def test_klarna_slice_it_shows_a_plan_that_adds_up(client: TestClient) -> None:
    payment = create(client, method="klarna_slice_it", amount=1000)
    html = client.get(page_path(payment)).text
    assert "In 3 Raten bezahlen" in html
    assert re.findall(r'class="plan-amount">([^<]+)<', html) == ["3,34 €", "3,33 €", "3,33 €"]


@pytest.mark.parametrize("method", ["klarna_pay_now", "klarna_direct_debit"])
def test_klarna_debit_products_ask_for_the_iban(client: TestClient, method: str) -> None:
    html = client.get(page_path(create(client, method=method))).text
    assert 'data-testid="iban"' in html


def test_klarna_decline_and_manual_capture(client: TestClient) -> None:
    payment = create(client, method="klarna_pay_later", capture="manual")
    r = answer(client, page_path(payment), "approve")
    assert r.status_code == 303
    assert status_of(client, payment) == "authorized"
    other = create(client, method="klarna_pay_later")
    answer(client, page_path(other), "decline")
    assert status_of(client, other) == "failed"


# No longer open


def test_expired_payment_shows_the_not_open_page(client: TestClient) -> None:
    payment = create(client)
    path = page_path(payment)
    csrf = csrf_of(client.get(path).text)
    r = client.post("/_sandbox/clock/advance", json={"seconds": 90000}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert status_of(client, payment) == "expired"
    page = client.get(path)
    assert page.status_code == 409
    assert "nicht mehr offen" in page.text and "abgelaufen" in page.text
    assert f'href="{SHOP_RETURN}?payment_id={payment["id"]}"' in page.text
    assert 'data-testid="approve"' not in page.text
    assert_page_headers(page)
    transfers = transfer_count(client)
    post = client.post(path, data={"csrf": csrf, "action": "approve"}, follow_redirects=False)
    assert post.status_code == 303
    assert status_of(client, payment) == "expired"
    assert transfer_count(client) == transfers


def test_approved_payment_page_is_not_open(client: TestClient, kasse: Kasse) -> None:
    payment = create_without_urls(kasse)
    csrf = csrf_of(client.get(page_path(payment)).text)  # the open page's form, kept in a second tab
    answer(client, page_path(payment), "approve")
    page = client.get(page_path(payment) + "?lang=en")
    assert page.status_code == 409
    assert "no longer open" in page.text and "processing" in page.text
    assert 'data-testid="return"' not in page.text
    again = client.post(page_path(payment), data={"csrf": csrf, "action": "cancel"}, follow_redirects=False)
    assert again.status_code == 409
    assert status_of(client, payment) == "processing"
