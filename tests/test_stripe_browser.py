"""The seed's flow end to end in headless Chromium, through the official ``stripe`` package: the shop
creates a source, the customer follows ``redirect.url`` to the bank page and approves (or declines, or
cancels), lands on the shop's return URL with ``source``, ``livemode`` and ``client_secret``, the shop
charges the source, and two business days later (on the merchant's clock) the money is there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from playwright.sync_api import Browser, Page

from kasse.domain.rules import add_business_days
from tests import stripe_support as support
from tests.stripe_support import LiveKasse, Shop, listen, new_source, wait

pytestmark = pytest.mark.browser

sqlite_server, sqlite_sdk, shop = support.sqlite_server, support.sqlite_sdk, support.shop


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    contexts = []

    def open_page() -> Page:
        contexts.append(browser.new_context(locale="en-US"))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


def _returned(page: Page, shop: Shop) -> dict[str, str]:
    page.wait_for_url(f"{shop.url}/return?**")
    assert page.locator("h1").inner_text() == "Back at the shop"
    query = parse_qsl(urlsplit(page.url).query)
    names = [name for name, _ in query]
    assert len(names) == len(set(names)), f"a parameter appears twice: {page.url}"
    return dict(query)


def test_seed_flow_approve_charge_settle(sqlite_sdk: LiveKasse, shop: Shop, new_page: Callable[[], Page]) -> None:
    listen(shop)
    before = stripe.Balance.retrieve()
    # The shop's own parameters are kept; a `source` of its own is overridden, as Stripe warns.
    src = new_source(f"{shop.url}/return?order=42&source=forged")
    assert (src.status, src.flow, src.usage, src.redirect.status) == ("pending", "redirect", "single_use", "pending")
    assert src.client_secret.startswith("src_client_secret_")

    page = new_page()
    page.goto(src.redirect.url)
    assert page.get_by_test_id("amount").inner_text() == "10,99 €"  # sofort[preferred_language]=de
    page.get_by_test_id("approve").click()
    query = _returned(page, shop)
    assert query == {"order": "42", "source": src.id, "livemode": "false", "client_secret": src.client_secret}

    # What the shop's return handler does (pretix ReturnView): re-read the source, compare the secret.
    returned = stripe.Source.retrieve(query["source"])
    assert returned.client_secret == query["client_secret"]
    assert (returned.status, returned.redirect.status) == ("chargeable", "succeeded")
    assert returned.sofort.bic == "COBADEFFXXX"
    charge = stripe.Charge.create(amount=returned.amount, currency=returned.currency, source=returned.id)
    assert (charge.status, charge.paid) == ("pending", False)

    settles = add_business_days(sqlite_sdk.now(), 2)
    sqlite_sdk.advance((settles - sqlite_sdk.now()).total_seconds() + 1)
    charge = stripe.Charge.retrieve(charge.id)
    assert (charge.status, charge.paid) == ("succeeded", True)
    after = stripe.Balance.retrieve()
    assert after.available[0].amount - (before.available[0].amount if before.available else 0) == 1099

    shop.wait_for("charge.succeeded")
    # Like Stripe, Kasse does not promise delivery order; each event says what it is about.
    events = {e.type: e for e in shop.events()}
    assert sorted(events) == ["charge.pending", "charge.succeeded", "source.chargeable"]
    assert (events["source.chargeable"].data.object.id, events["charge.succeeded"].data.object.id) == (
        src.id,
        charge.id,
    )
    sqlite_sdk.check_ledger()


@pytest.mark.parametrize(
    ("button", "reason"), [("decline", "declined"), ("cancel", "user_abort")], ids=["decline", "cancel"]
)
def test_decline_and_cancel_fail_the_source(
    sqlite_sdk: LiveKasse, shop: Shop, new_page: Callable[[], Page], button: str, reason: str
) -> None:
    listen(shop, ["source.failed", "source.canceled", "source.chargeable"])
    src = new_source(f"{shop.url}/return")
    page = new_page()
    page.goto(src.redirect.url)
    page.get_by_test_id(button).click()
    assert _returned(page, shop)["source"] == src.id
    failed = stripe.Source.retrieve(src.id)
    assert (failed.status, failed.redirect.status, failed.redirect.failure_reason) == ("failed", "failed", reason)
    events = shop.wait_for("source.failed")
    assert [(e.data.object.id, e.data.object.redirect.failure_reason) for e in events] == [(src.id, reason)]
    try:
        stripe.Charge.create(amount=src.amount, currency="eur", source=src.id)
        raise AssertionError("charged a failed source")
    except stripe.InvalidRequestError as exc:
        assert (exc.code, exc.param) == (None, "source")


def test_closing_the_browser_after_approving_still_yields_chargeable(
    sqlite_sdk: LiveKasse, shop: Shop, new_page: Callable[[], Page]
) -> None:
    listen(shop, ["source.chargeable"])
    src = new_source(f"{shop.url}/return")
    page = new_page()
    page.route(f"{shop.url}/**", lambda route: route.abort())  # the customer never gets back
    page.goto(src.redirect.url)
    page.get_by_test_id("approve").click()
    wait(lambda: stripe.Source.retrieve(src.id).status == "chargeable")
    assert [e.data.object.id for e in shop.wait_for("source.chargeable")] == [src.id]
