"""Issue 16, Stripe: webhook endpoints accept every event type stripe-python knows, keep ``api_version``
and ``metadata``; refunds emit ``refund.created``, ``refund.updated``, ``charge.refund.updated`` (and
``refund.failed``) where Stripe does, delivered and verified as a shop does (both databases)."""

from __future__ import annotations

import pytest
import stripe

from kasse.dialects.stripe.catalog import EVENT_TYPES
from tests import stripe_support as support
from tests.stripe_support import LiveKasse, Shop, charge, chargeable_source, listen, wait

server, sdk, shop = support.server, support.sdk, support.shop


def test_every_event_type_is_accepted_and_endpoints_keep_version_and_metadata(sdk: LiveKasse) -> None:
    usual = ["refund.created", "refund.updated", "refund.failed", "payment_intent.succeeded", "balance.available",
             "payout.paid", "checkout.session.completed", "charge.refund.updated"]  # fmt: skip
    endpoint = stripe.WebhookEndpoint.create(
        url="https://shop.example/hook", enabled_events=usual, api_version="2020-08-27", metadata={"env": "test"}
    )
    assert (endpoint.api_version, endpoint.metadata.to_dict()) == ("2020-08-27", {"env": "test"})
    every = stripe.WebhookEndpoint.modify(endpoint.id, enabled_events=sorted(EVENT_TYPES), metadata={"k": "v"})
    assert len(every.enabled_events) == len(EVENT_TYPES)
    fetched = stripe.WebhookEndpoint.retrieve(endpoint.id)
    assert (fetched.api_version, fetched.metadata.to_dict()) == ("2020-08-27", {"env": "test", "k": "v"})
    cleared = stripe.WebhookEndpoint.modify(endpoint.id, metadata={"env": ""})
    assert cleared.metadata.to_dict() == {"k": "v"}
    assert stripe.WebhookEndpoint.list().data[0].metadata.to_dict() == {"k": "v"}
    for bad in ({"api_version": "2020-99-01"}, {"enabled_events": ["refund.exploded"]}):
        params = {"url": "https://shop.example/hook", "enabled_events": ["*"], **bad}
        with pytest.raises(stripe.InvalidRequestError) as caught:
            stripe.WebhookEndpoint.create(**params)  # type: ignore[arg-type]
        assert caught.value.http_status == 400
    assert len(stripe.WebhookEndpoint.list().data) == 1
    assert stripe.WebhookEndpoint.delete(endpoint.id).deleted is True


def test_refund_events_are_emitted_and_delivered(sdk: LiveKasse, shop: Shop) -> None:
    listen(shop, ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated", "charge.refunded"])
    ch = charge(chargeable_source(sdk))
    refund = stripe.Refund.create(charge=ch.id, amount=100)  # waits for the charge's money
    sdk.advance(5 * 86_400)  # two business days, whatever the weekday
    events = shop.wait_for("refund.updated")
    assert {e.data.object.status for e in events} == {"succeeded"}
    types = sorted(shop.types())
    assert types == ["charge.refund.updated", "charge.refunded", "refund.created", "refund.updated"]
    created = next(e for e in shop.events() if e.type == "refund.created")
    assert (created.data.object.id, created.data.object.status) == (refund.id, "pending")
    assert created.data.object.pending_reason == "charge_pending"
    listed = stripe.Event.list(type="refund.*").data
    assert sorted(e.type for e in listed) == ["refund.created", "refund.updated"]


def test_a_refund_canceled_by_a_failed_charge_is_updated(sdk: LiveKasse, shop: Shop) -> None:
    listen(shop, ["refund.updated", "charge.refund.updated", "charge.failed"])
    # Every charge's money fails to arrive, at the 14-day cut-off (no race with the refund below).
    assert sdk.api.post("/stripe/_sandbox/settings", data={"sofort_failure_rate": "1"}).status_code == 200
    ch = charge(chargeable_source(sdk))
    stripe.Refund.create(charge=ch.id, amount=100)
    sdk.advance(15 * 86_400)
    updated = wait(lambda: [e for e in shop.events() if e.type == "refund.updated"])
    assert updated[0].data.object.status == "canceled"
    assert sorted(shop.types()) == ["charge.failed", "charge.refund.updated", "refund.updated"]
