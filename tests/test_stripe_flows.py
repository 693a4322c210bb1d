"""The seed's flows through the official ``stripe`` package against a live Kasse, on SQLite and on
PostgreSQL: magic email, magic names, charge settlement after two business days on the merchant's
clock, refunds, the 1-hour and 6-hour expiries, webhooks verified with ``stripe.Webhook``."""

from __future__ import annotations

import json
from datetime import timedelta

import stripe

from kasse.domain.rules import add_business_days
from tests import stripe_support as support
from tests.stripe_support import LiveKasse, Shop, charge, chargeable_source, listen, new_source, wait

# Fixtures: a live Kasse on SQLite and on PostgreSQL with the stripe package pointed at it; the shop.
server, sdk, shop = support.server, support.sdk, support.shop

DAY_S = 86_400


def _available(server: LiveKasse) -> int:
    balance = stripe.Balance.retrieve()
    return sum(b.amount for b in balance.available if b.currency == "eur")


def test_magic_email_charge_settles_after_two_business_days(sdk: LiveKasse, shop: Shop) -> None:
    listen(shop)
    before = _available(sdk)
    src = chargeable_source(sdk)
    assert src.sofort.bank_name == "Commerzbank" and src.sofort.iban_last4 == "3000"
    ch = charge(src, description="Order 42", metadata={"order": "42"}, statement_descriptor="IGNORED")
    assert (ch.status, ch.paid, ch.captured, ch.amount) == ("pending", False, True, 1099)
    assert ch.source.id == src.id and ch.source.status == "consumed"
    assert ch.payment_method_details.type == "sofort"
    assert ch.payment_method_details.sofort.country == "DE"
    assert ch.metadata.order == "42" and ch.description == "Order 42"
    assert stripe.Source.retrieve(src.id).status == "consumed"

    settles = add_business_days(sdk.now(), 2)
    sdk.advance((settles - sdk.now()).total_seconds() - 60)
    assert stripe.Charge.retrieve(ch.id).status == "pending", "settled before two business days"
    sdk.advance(120)
    ch = stripe.Charge.retrieve(ch.id, expand=["balance_transaction"])
    assert (ch.status, ch.paid) == ("succeeded", True)
    assert ch.balance_transaction.status == "available" and ch.balance_transaction.amount == 1099
    assert _available(sdk) == before + 1099

    events = shop.wait_for("charge.succeeded")
    assert events[0].data.object.id == ch.id
    assert sorted(shop.types()) == ["charge.pending", "charge.succeeded", "source.chargeable"]
    sdk.check_ledger()


def test_weekend_is_skipped() -> None:
    from datetime import UTC, datetime

    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert add_business_days(friday, 2) == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tuesday
    saturday = friday + timedelta(days=1)
    assert add_business_days(saturday, 2) == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # Wednesday 00:00


def test_magic_names_decide_the_charge_at_once(sdk: LiveKasse, shop: Shop) -> None:
    listen(shop, ["charge.pending", "charge.succeeded", "charge.failed"])
    good = charge(chargeable_source(sdk, owner={"name": "succeeding_charge"}))
    bad = charge(chargeable_source(sdk, owner={"name": "failing_charge"}))
    assert good.status == bad.status == "pending"
    wait(lambda: stripe.Charge.retrieve(good.id).status == "succeeded")
    failed = wait(lambda: (c := stripe.Charge.retrieve(bad.id)).status == "failed" and c)
    assert failed.paid is False and failed.failure_code == "processing_error"
    assert failed.failure_balance_transaction is not None
    events = wait(lambda: len(shop.types()) >= 4 and shop.events())
    by_charge = {(e.data.object.id, e.type) for e in events}
    assert by_charge == {
        (good.id, "charge.pending"), (good.id, "charge.succeeded"),
        (bad.id, "charge.pending"), (bad.id, "charge.failed"),
    }  # fmt: skip
    sdk.check_ledger()


def test_pending_source_is_canceled_after_one_hour(sdk: LiveKasse, shop: Shop) -> None:
    listen(shop)
    src = new_source()
    sdk.advance(3_600 - 30)
    assert stripe.Source.retrieve(src.id).status == "pending"
    sdk.advance(60)
    assert stripe.Source.retrieve(src.id).status == "canceled"
    assert [e.data.object.id for e in shop.wait_for("source.canceled")] == [src.id]
    with_error = _charge_error(src)
    assert (with_error.code, with_error.param) == (None, "source")


def _charge_error(src: stripe.Source) -> stripe.InvalidRequestError:
    try:
        charge(src)
    except stripe.InvalidRequestError as exc:
        return exc
    raise AssertionError("the charge was accepted")


def test_unused_chargeable_source_is_canceled_after_six_hours_and_the_money_returned(
    sdk: LiveKasse, shop: Shop
) -> None:
    listen(shop, ["source.canceled"])
    src = chargeable_source(sdk)
    sdk.advance(6 * 3_600 - 60)
    assert stripe.Source.retrieve(src.id).status == "chargeable"
    sdk.advance(120)
    assert stripe.Source.retrieve(src.id).status == "canceled"
    assert [e.data.object.status for e in shop.wait_for("source.canceled")] == ["canceled"]
    balance = stripe.Balance.retrieve()
    assert [b.amount for b in balance.pending] in ([], [0])
    sdk.check_ledger()
    assert _charge_error(src).code is None


def test_refund_on_a_pending_charge_waits_for_the_money(sdk: LiveKasse, shop: Shop) -> None:
    listen(shop, ["charge.refunded", "charge.refund.updated"])
    ch = charge(chargeable_source(sdk))
    refund = stripe.Refund.create(charge=ch.id, amount=500, reason="requested_by_customer")
    assert (refund.status, refund.amount, refund.charge) == ("pending", 500, ch.id)
    assert stripe.Charge.retrieve(ch.id).amount_refunded == 500
    sdk.advance(5 * DAY_S)
    assert stripe.Refund.retrieve(refund.id).status == "succeeded"
    updated = shop.wait_for("charge.refund.updated")
    assert [(e.data.object.id, e.data.object.status) for e in updated] == [(refund.id, "succeeded")]
    assert shop.wait_for("charge.refunded")[0].data.object.amount_refunded == 500
    assert _available(sdk) == 1099 - 500
    sdk.check_ledger()


def test_refunds_after_settlement_never_exceed_the_charge(sdk: LiveKasse) -> None:
    ch = charge(chargeable_source(sdk))
    sdk.advance(5 * DAY_S)
    first = stripe.Refund.create(charge=ch.id, amount=300)
    client = support.client(sdk)  # StripeClient: base_addresses is its only change
    raw = client.raw_request("post", f"/v1/charges/{ch.id}/refunds", amount=300)
    second = client.deserialize(raw, api_mode="V1")
    assert stripe.Charge.retrieve_refund(ch.id, second.id).amount == 300
    assert first.status == second.status == "succeeded"
    try:
        stripe.Refund.create(charge=ch.id, amount=500)
        raise AssertionError("refunded more than was charged")
    except stripe.InvalidRequestError as exc:
        assert (exc.code, exc.param, exc.http_status) == ("amount_too_large", "amount", 400)
    rest = stripe.Refund.create(charge=ch.id)
    assert rest.amount == 1099 - 600
    try:
        stripe.Refund.create(charge=ch.id, amount=1)
        raise AssertionError("refunded a fully refunded charge")
    except stripe.InvalidRequestError as exc:
        assert exc.code == "charge_already_refunded"
    full = stripe.Charge.retrieve(ch.id)
    assert full.refunded is True and full.amount_refunded == 1099 and full.refunds.total_count == 3
    assert {r.id for r in stripe.Refund.list(charge=ch.id).data} == {first.id, second.id, rest.id}
    assert [r.id for r in stripe.Charge.list_refunds(ch.id, limit=2).data] == [rest.id, second.id]
    assert _available(sdk) == 0
    txns = stripe.BalanceTransaction.list(limit=10).data
    assert sorted(t.amount for t in txns) == [-499, -300, -300, 1099]
    sdk.check_ledger()


def test_refund_of_a_failed_charge(sdk: LiveKasse) -> None:
    """A refund waiting on a charge that fails is canceled; a failed charge cannot be refunded."""
    r = sdk.api.post("/stripe/_sandbox/settings", data={"sofort_failure_rate": "1"})
    assert r.status_code == 200, r.text
    ch = charge(chargeable_source(sdk))
    waiting = stripe.Refund.create(charge=ch.id, amount=1099)
    sdk.advance(13 * DAY_S)
    assert stripe.Charge.retrieve(ch.id).status == "pending", "Sofort charges stay pending up to the 14-day cut-off"
    sdk.advance(DAY_S + 60)
    failed = stripe.Charge.retrieve(ch.id)
    assert failed.status == "failed" and failed.amount_refunded == 0
    assert stripe.Refund.retrieve(waiting.id).status == "canceled"
    try:
        stripe.Refund.create(charge=ch.id)
        raise AssertionError("refunded a failed charge")
    except stripe.InvalidRequestError as exc:
        assert exc.code == "charge_not_refundable"
    assert _available(sdk) == 0
    sdk.check_ledger()


def test_refund_window_is_180_days(sdk: LiveKasse) -> None:
    ch = charge(chargeable_source(sdk))
    sdk.advance(181 * DAY_S)
    try:
        stripe.Refund.create(charge=ch.id, amount=100)
        raise AssertionError("refunded after 180 days")
    except stripe.InvalidRequestError as exc:
        assert exc.code == "charge_not_refundable"


def test_stripe_and_native_endpoints_each_get_their_own_events(sdk: LiveKasse, shop: Shop) -> None:
    listen(shop)
    r = sdk.api.post("/api/v1/webhook_endpoints", json={"url": f"{shop.url}/native", "enabled_events": ["*"]})
    assert r.status_code == 201, r.text
    chargeable_source(sdk)
    wait(lambda: len(shop.received) >= 3)  # source.chargeable; payment.created, payment.authorized
    stripe_bodies = [body for body, headers in shop.received if "stripe-signature" in headers]
    native = [json.loads(body)["type"] for body, headers in shop.received if "webhook-signature" in headers]
    assert [json.loads(b)["type"] for b in stripe_bodies] == ["source.chargeable"]
    assert sorted(native) == ["payment.authorized", "payment.created"]
