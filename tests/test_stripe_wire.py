"""Issue 16, Stripe: ``Stripe-Version`` checked and answered, unknown URLs and methods in Stripe's 404,
the refusals Stripe gives for search, capture and refund cancel, replays naming their original request,
and the shapes a shop reads (both databases, through the stripe package where it can say it)."""

from __future__ import annotations

import httpx
import pytest
import stripe

from kasse.dialects.stripe.catalog import CURRENT_VERSION
from tests import stripe_support as support
from tests.stripe_support import LiveKasse, charge, chargeable_source, new_source, wait

server, sdk = support.server, support.sdk


def test_stripe_version_is_checked_and_answered(sdk: LiveKasse) -> None:
    src = new_source()
    assert src.last_response is not None
    assert src.last_response.headers["Stripe-Version"] == CURRENT_VERSION
    old = stripe.Source.retrieve(src.id, stripe_version="2020-08-27")
    assert old.last_response is not None and old.last_response.headers["Stripe-Version"] == "2020-08-27"
    for bad in ("2020-13-45", "yesterday", "1999-01-01"):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            stripe.Source.retrieve(src.id, stripe_version=bad)
        assert caught.value.http_status == 400 and f"Invalid Stripe API version: {bad}" in str(caught.value)
        assert caught.value.headers is not None and caught.value.headers["Request-Id"].startswith("req_")


def test_unknown_urls_and_methods_answer_stripes_404(sdk: LiveKasse) -> None:
    client = support.client(sdk)
    for method, path in [("get", "/v1/nothing"), ("delete", "/v1/charges"), ("post", "/v1/balance")]:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.raw_request(method, path)
        assert caught.value.http_status == 404, (method, path)
        assert f"Unrecognized request URL ({method.upper()}: {path})" in str(caught.value)
        assert caught.value.code is None and caught.value.request_id and caught.value.request_id.startswith("req_")
    raw = httpx.put(f"{sdk.url}/stripe/v1/charges", headers={"Authorization": "Bearer x"})
    assert raw.status_code == 404 and raw.headers["Request-Id"].startswith("req_")
    assert set(raw.json()["error"]) == {"type", "message"}


def test_search_capture_and_cancel_are_refused_as_stripe_does(sdk: LiveKasse) -> None:
    ch = charge(chargeable_source(sdk))
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Charge.search(query="status:'succeeded'")
    assert "Search API" in str(caught.value) and "No such charge" not in str(caught.value)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Charge.capture(ch.id)
    assert (caught.value.code, caught.value.http_status) == ("charge_already_captured", 400)
    refund = stripe.Refund.create(charge=ch.id, amount=100)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Refund.cancel(refund.id)
    assert "requires_action" in str(caught.value)
    assert stripe.Refund.retrieve(refund.id).status == "pending"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Charge.capture("ch_unknown")
    assert caught.value.code == "resource_missing"


def test_replays_name_the_original_request(sdk: LiveKasse) -> None:
    first = new_source(idempotency_key="order-42")
    again = new_source(idempotency_key="order-42")
    assert first.last_response is not None and again.last_response is not None
    assert again.id == first.id and again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.headers["Original-Request"] == first.last_response.request_id
    assert first.last_response.headers["Original-Request"] == first.last_response.request_id


def test_shapes_a_shop_reads(sdk: LiveKasse) -> None:
    src = chargeable_source(sdk)
    assert "customer" not in src.to_dict()
    ch = charge(src, statement_descriptor="ORDER 42", statement_descriptor_suffix="42", receipt_email="j@example.com")
    assert ch.statement_descriptor == "ORDER 42" and ch.calculated_statement_descriptor == "ORDER 42"
    assert (ch.statement_descriptor_suffix, ch.receipt_email) == ("42", "j@example.com")
    assert stripe.Charge.retrieve(ch.id).statement_descriptor == "ORDER 42"
    waiting = stripe.Refund.create(charge=ch.id, amount=100)
    assert (waiting.status, waiting.pending_reason) == ("pending", "charge_pending")
    omitted = {"description", "destination_details", "failure_balance_transaction", "failure_reason",
               "instructions_email", "next_action"}  # fmt: skip
    assert not omitted & set(waiting.to_dict())
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Refund.create(charge=ch.id, amount=5000)
    assert caught.value.json_body is not None and caught.value.json_body["error"]["param"] == "amount"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        charge(chargeable_source(sdk), statement_descriptor="X" * 23)
    assert caught.value.param == "statement_descriptor"

    bad = charge(chargeable_source(sdk, owner={"name": "failing_charge"}))
    failed = wait(lambda: (c := stripe.Charge.retrieve(bad.id)).status == "failed" and c)
    assert failed.outcome.type == "issuer_declined" and failed.outcome.network_status == "declined_by_network"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Refund.create(charge=bad.id)
    assert bad.id in str(caught.value) and "pay_" not in str(caught.value)
    assert caught.value.json_body is not None and "param" not in caught.value.json_body["error"]


def test_a_charge_has_a_receipt_page(sdk: LiveKasse) -> None:
    ch = charge(chargeable_source(sdk))
    assert ch.receipt_url is not None and ch.receipt_url.startswith(f"{sdk.url}/stripe/receipts/")
    page = httpx.get(ch.receipt_url, params={"lang": "en"})
    assert page.status_code == 200 and "Receipt" in page.text and "€10.99" in page.text
    assert httpx.get(f"{sdk.url}/stripe/receipts/nothing").status_code == 404
    pending = new_source()  # not charged: no receipt yet
    token = pending.redirect.url.rsplit("/", 1)[-1]
    assert httpx.get(f"{sdk.url}/stripe/receipts/{token}").status_code == 404
