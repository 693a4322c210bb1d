"""Issue 16, Stripe: list filters applied in the query, unknown parameters and cursors refused, and
``expand[]`` on create, retrieve, update and list, through the stripe package on both databases."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests import stripe_support as support
from tests.stripe_support import LiveKasse, charge, chargeable_source, wait

server, sdk = support.server, support.sdk
FUTURE = 9_999_999_999


def _refused(call: Any, **params: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call(**params)
    assert caught.value.http_status == 400
    return caught.value


def _settled_charge_with_refund(sdk: LiveKasse) -> tuple[stripe.Charge, stripe.Refund]:
    ch = charge(chargeable_source(sdk, owner={"name": "succeeding_charge"}))
    wait(lambda: stripe.Charge.retrieve(ch.id).status == "succeeded")
    return ch, stripe.Refund.create(charge=ch.id, amount=300)


def test_list_filters_are_applied(sdk: LiveKasse) -> None:
    ch, re = _settled_charge_with_refund(sdk)
    other = charge(chargeable_source(sdk))
    txns = stripe.BalanceTransaction.list(limit=100).data
    assert len(txns) == 3
    by_source = stripe.BalanceTransaction.list(source=ch.id).data
    assert [t.source for t in by_source] == [ch.id] and by_source[0].type == "charge"
    assert [t.source for t in stripe.BalanceTransaction.list(source=re.id).data] == [re.id]
    assert [t.amount for t in stripe.BalanceTransaction.list(type="refund").data] == [-300]
    assert len(stripe.BalanceTransaction.list(currency="eur").data) == 3
    assert stripe.BalanceTransaction.list(currency="usd").data == []
    assert stripe.BalanceTransaction.list(payout="po_123").data == []  # Kasse has no payouts
    assert stripe.BalanceTransaction.list(created={"gte": FUTURE}).data == []
    assert {c.id for c in stripe.Charge.list(created={"lte": FUTURE}).data} == {ch.id, other.id}
    assert stripe.Charge.list(created={"gte": FUTURE}).data == []
    assert stripe.Charge.list(created=str(ch.created + 10**6)).data == []
    assert stripe.Charge.list(customer="cus_123").data == []
    assert stripe.Charge.list(payment_intent="pi_123").data == []
    assert [r.id for r in stripe.Refund.list(charge=ch.id).data] == [re.id]
    assert stripe.Refund.list(charge=other.id).data == []
    assert stripe.Refund.list(created={"gt": FUTURE}).data == []
    assert stripe.Refund.list(payment_intent="pi_123").data == []


def test_unknown_parameters_and_cursors_are_refused(sdk: LiveKasse) -> None:
    ch = charge(chargeable_source(sdk))
    for call, params, param in [
        (stripe.Charge.list, {"colour": "red"}, "colour"),
        (stripe.BalanceTransaction.list, {"sourc": ch.id}, "sourc"),
        (stripe.Refund.list, {"created": {"after": 1}}, "created[after]"),
        (stripe.Event.list, {"object_id": ch.id}, "object_id"),
        (stripe.Charge.retrieve, {"id": ch.id, "expand_all": "true"}, "expand_all"),
    ]:
        error = _refused(call, **params)
        assert (error.code, error.param) == ("parameter_unknown", param)
        assert error.json_body is not None and "param" in error.json_body["error"]
    for call, cursor in [
        (stripe.Charge.list, "ch_0000000000000000000000000X"),
        (stripe.Refund.list, "re_0000000000000000000000000X"),
        (stripe.BalanceTransaction.list, "txn_000000000000000000000000X"),
        (stripe.Event.list, "evt_000000000000000000000000X"),
        (stripe.WebhookEndpoint.list, "we_0000000000000000000000000X"),
    ]:
        for name in ("starting_after", "ending_before"):
            error = _refused(call, **{name: cursor})
            assert (error.code, error.param) == ("resource_missing", name), (call, name)
    assert stripe.Charge.list(starting_after=ch.id).data == []


def test_expand_everywhere(sdk: LiveKasse) -> None:
    ch, _ = _settled_charge_with_refund(sdk)
    refund = stripe.Refund.create(charge=ch.id, amount=100, expand=["charge", "balance_transaction"])
    assert refund.charge.amount == ch.amount and refund.charge.object == "charge"
    assert refund.balance_transaction.amount == -100
    assert stripe.Refund.retrieve(refund.id, expand=["charge.balance_transaction"]).charge.balance_transaction.amount
    listed = stripe.Refund.list(expand=["data.charge"]).data
    assert {r.charge.id for r in listed} == {ch.id}
    assert stripe.Charge.list(expand=["data.balance_transaction"]).data[0].balance_transaction.object == (
        "balance_transaction"
    )
    updated = stripe.Charge.modify(ch.id, description="x", expand=["balance_transaction"])
    assert updated.balance_transaction.amount == ch.amount
    txn = stripe.BalanceTransaction.list(type="charge", expand=["data.source"]).data[0]
    assert txn.source.id == ch.id and txn.source.object == "charge"
    deep = stripe.Charge.retrieve(ch.id, expand=["refunds.data.charge.balance_transaction"])
    assert deep.refunds.data[0].charge.balance_transaction.object == "balance_transaction"
    nulls = stripe.Charge.retrieve(ch.id, expand=["customer", "payment_intent"])
    assert nulls.customer is None and nulls.payment_intent is None
    for call, params, what in [
        (stripe.Charge.retrieve, {"id": ch.id, "expand": ["metadata"]}, "metadata"),
        (stripe.Refund.list, {"expand": ["charge"]}, "charge"),
        (stripe.Charge.retrieve, {"id": ch.id, "expand": ["refunds.data.charge.refunds.data.charge"]}, None),
    ]:
        error = _refused(call, **params)
        assert error.code is None
        if what:
            assert str(error.user_message) == f"This property cannot be expanded ({what})."
    before = len(stripe.Refund.list(limit=100).data)
    _refused(stripe.Refund.create, charge=ch.id, amount=1, expand=["charge.nothing"])
    assert len(stripe.Refund.list(limit=100).data) == before, "a refused expansion left a refund"
