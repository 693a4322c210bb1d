"""Every object the Stripe dialect answers in the seed's flows, driven by the stripe package, checked
against stripe-python 16.1.0's declarations of Source, Charge, Refund, Event, BalanceTransaction,
Balance and WebhookEndpoint (tests/stripe_shapes.py): present, typed, nullable only where declared,
nothing undeclared. Webhook bodies as delivered are checked too. Both databases."""

from __future__ import annotations

import json

import stripe

from tests import stripe_support as support
from tests.stripe_shapes import check_answer
from tests.stripe_support import LiveKasse, Recorded, Shop, charge, chargeable_source, listen, new_source, wait

server, sdk, shop, recorded = support.server, support.sdk, support.shop, support.recorded


def test_every_answer_matches_the_sdk_declarations(sdk: LiveKasse, shop: Shop, recorded: Recorded) -> None:
    endpoint = listen(shop)
    stripe.WebhookEndpoint.modify(endpoint.id, description="shop", metadata={"env": "test"})
    stripe.WebhookEndpoint.retrieve(endpoint.id)
    stripe.WebhookEndpoint.list()
    pending = new_source()
    stripe.Source.modify(pending.id, metadata={"order": "43"})
    good = chargeable_source(sdk, owner={"name": "succeeding_charge"})
    ch = charge(good, expand=["balance_transaction"])
    re = stripe.Refund.create(charge=ch.id, amount=100, expand=["charge"])  # waits on the pending charge
    wait(lambda: stripe.Charge.retrieve(ch.id).status == "succeeded")
    stripe.Refund.retrieve(re.id)
    stripe.Charge.retrieve(ch.id, expand=["balance_transaction", "refunds.data.balance_transaction"])
    stripe.Charge.modify(ch.id, description="Order 42")
    stripe.Refund.create(charge=ch.id, amount=200)
    bad = charge(chargeable_source(sdk, owner={"name": "failing_charge"}))
    wait(lambda: stripe.Charge.retrieve(bad.id).status == "failed")
    stripe.Charge.list(limit=3)
    stripe.Refund.list(expand=["data.charge"])
    stripe.Charge.list_refunds(ch.id)
    stripe.Event.list(limit=100)
    stripe.Balance.retrieve()
    for txn in stripe.BalanceTransaction.list(limit=100).data:
        stripe.BalanceTransaction.retrieve(txn.id)
    stripe.WebhookEndpoint.delete(endpoint.id)

    problems = [f"{where}: {p}" for where, body in recorded.ok_bodies() for p in check_answer(body)]
    received = [json.loads(body) for body, _ in shop.received]
    assert received
    problems += [f"webhook: {p}" for body in received for p in check_answer(body)]
    assert not problems, "\n".join(problems)
