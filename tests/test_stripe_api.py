"""The Stripe dialect's API surface through the official ``stripe`` package (SQLite; the flows run on
both databases in test_stripe_flows.py): every validation error raises the SDK's exception with Stripe's
``code`` and ``param`` and leaves no trace, authentication, idempotency, lists, events, webhook
endpoints, expansion, balance transactions and the sandbox failure rate."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import func, select

from kasse.domain.rules import sampled_failure
from kasse.engine.merchants import SANDBOX
from kasse.storage import schema
from tests import stripe_support as support
from tests.stripe_support import LiveKasse, charge, chargeable_source, new_source

sqlite_server, sqlite_sdk = support.sqlite_server, support.sqlite_sdk
DAY_S = 86_400
MISSING = object()


def _rows(server: LiveKasse) -> tuple[int, int, int]:
    with server.kasse.read() as store:
        count = [
            store.conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (schema.payments, schema.events, schema.captures)
        ]
    return count[0], count[1], count[2]


def _source_params(**changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "type": "sofort", "amount": 1099, "currency": "eur", "redirect": {"return_url": "https://shop/ret"},
        "sofort": {"country": "DE"}, "owner": {"email": "a@example.com"},
    }  # fmt: skip
    for key, value in changes.items():
        if value is MISSING:
            params.pop(key)
        else:
            params[key] = value
    return params


SOURCE_ERRORS = [
    ({"type": MISSING}, "parameter_missing", "type"),
    ({"type": "ideal"}, "payment_method_not_available", "type"),
    ({"amount": MISSING}, "parameter_missing", "amount"),
    ({"amount": "ten"}, "parameter_invalid_integer", "amount"),
    ({"amount": 99}, "amount_too_small", "amount"),
    ({"currency": MISSING}, "parameter_missing", "currency"),
    ({"currency": "usd"}, None, "currency"),
    ({"redirect": MISSING}, "parameter_missing", "redirect[return_url]"),
    ({"redirect": {"return_url": "not a url"}}, "url_invalid", "redirect[return_url]"),
    ({"redirect": {"return_url": "javascript:alert(document.cookie)"}}, "url_invalid", "redirect[return_url]"),
    ({"redirect": {"return_url": "data:text/html,<script>1</script>"}}, "url_invalid", "redirect[return_url]"),
    ({"redirect": {"return_url": "mailto:shop@example.com"}}, "url_invalid", "redirect[return_url]"),
    ({"redirect": {"return_url": "https://shop/r\r\nSet-Cookie: a=b"}}, "url_invalid", "redirect[return_url]"),
    ({"redirect": {"return_url": "https:///r"}}, "url_invalid", "redirect[return_url]"),
    ({"sofort": MISSING}, "parameter_missing", "sofort[country]"),
    ({"sofort": {"country": "FR"}}, None, "sofort[country]"),
    ({"sofort": {"country": "DE", "preferred_language": "sv"}}, None, "sofort[preferred_language]"),
    ({"statement_descriptor": "X" * 36}, None, "statement_descriptor"),
    ({"statement_descriptor": "ORDER (1)"}, None, "statement_descriptor"),
    ({"usage": "reusable"}, None, "usage"),
    ({"flow": "receiver"}, None, "flow"),
    ({"owner": {"nickname": "J"}}, "parameter_unknown", "owner[nickname]"),
    ({"metadata": {"k" * 41: "v"}}, None, f"metadata[{'k' * 41}]"),
    ({"metadata": {"k": "v" * 501}}, None, "metadata[k]"),
    ({"color": "red"}, "parameter_unknown", "color"),
]


@pytest.mark.parametrize(("changes", "code", "param"), SOURCE_ERRORS, ids=[f"{c}-{p}" for _, c, p in SOURCE_ERRORS])
def test_source_validation_errors(sqlite_sdk: LiveKasse, changes: dict[str, Any], code: str | None, param: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Source.create(**_source_params(**changes))
    assert (caught.value.code, caught.value.param, caught.value.http_status) == (code, param, 400)
    assert caught.value.error is not None and caught.value.error.type == "invalid_request_error"
    assert _rows(sqlite_sdk) == (0, 0, 0), "a refused request left a trace"


def test_accepted_edge_values(sqlite_sdk: LiveKasse) -> None:
    for country, language in [("AT", "de"), ("BE", "fr"), ("IT", "it"), ("NL", "nl"), ("ES", "es")]:
        src = stripe.Source.create(**_source_params(sofort={"country": country, "preferred_language": language},
                                                      amount=100, statement_descriptor="X" * 35))  # fmt: skip
        assert (src.sofort.country, src.sofort.preferred_language, src.amount) == (country, language, 100)
        assert src.statement_descriptor == "X" * 35 and src.livemode is False


def test_charge_errors_name_the_parameter(sqlite_sdk: LiveKasse) -> None:
    pending = new_source()
    src = chargeable_source(sqlite_sdk)
    before = _rows(sqlite_sdk)
    cases: list[tuple[dict[str, Any], str, str, int]] = [
        ({"amount": 1099, "currency": "eur"}, "parameter_missing", "source", 400),
        ({"amount": 1099, "currency": "eur", "source": "src_unknown"}, "resource_missing", "source", 404),
        ({"amount": 1099, "currency": "eur", "source": pending.id}, None, "source", 400),
        ({"amount": 1000, "currency": "eur", "source": src.id}, "invalid_charge_amount", "amount", 400),
        ({"amount": 1099, "currency": "usd", "source": src.id}, None, "currency", 400),
        ({"amount": "x", "currency": "eur", "source": src.id}, "parameter_invalid_integer", "amount", 400),
        ({"currency": "eur", "source": src.id}, "parameter_missing", "amount", 400),
    ]
    for params, code, param, status in cases:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            stripe.Charge.create(**params)
        assert (caught.value.code, caught.value.param, caught.value.http_status) == (code, param, status), params
    assert _rows(sqlite_sdk) == before
    charge(src)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        charge(src)  # single use
    assert (caught.value.code, caught.value.param) == ("invalid_source_usage", "source")


def test_refund_errors(sqlite_sdk: LiveKasse) -> None:
    ch = charge(chargeable_source(sqlite_sdk))
    cases: list[tuple[dict[str, Any], str, str, int]] = [
        ({"charge": "ch_unknown"}, "resource_missing", "charge", 404),
        ({}, "parameter_missing", "charge", 400),
        ({"charge": ch.id, "reason": "changed_mind"}, None, "reason", 400),
        ({"charge": ch.id, "amount": 0}, "parameter_invalid_integer", "amount", 400),
        ({"charge": ch.id, "amount": 1100}, "amount_too_large", "amount", 400),
    ]
    for params, code, param, status in cases:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            stripe.Refund.create(**params)
        assert (caught.value.code, caught.value.param, caught.value.http_status) == (code, param, status), params
    assert stripe.Refund.list().data == []


def test_unknown_ids_are_resource_missing(sqlite_sdk: LiveKasse) -> None:
    for call in (
        lambda: stripe.Source.retrieve("src_nope"),
        lambda: stripe.Charge.retrieve("ch_nope"),
        lambda: stripe.Refund.retrieve("re_nope"),
        lambda: stripe.Event.retrieve("evt_nope"),
        lambda: stripe.WebhookEndpoint.retrieve("we_nope"),
        lambda: stripe.BalanceTransaction.retrieve("txn_nope"),
        lambda: stripe.Source.retrieve("pay_00000000000000000000000000"),  # a Kasse id is not a Stripe id
    ):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            call()
        assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


def test_authentication(sqlite_sdk: LiveKasse) -> None:
    with pytest.raises(stripe.AuthenticationError) as caught:
        stripe.Source.retrieve("src_x", api_key="sk_test_wrong")
    assert caught.value.http_status == 401
    with httpx.Client(base_url=sqlite_sdk.url) as raw:
        assert raw.get("/stripe/v1/balance").status_code == 401
        basic = base64.b64encode(f"{SANDBOX.secret_key}:".encode()).decode()
        r = raw.get("/stripe/v1/balance", headers={"Authorization": f"Basic {basic}", "Stripe-Version": "2015-10-16"})
        assert r.status_code == 200 and r.json()["object"] == "balance"
        assert r.headers["request-id"].startswith("req_")
        bad = raw.post(
            "/stripe/v1/sources", json={"type": "sofort"}, headers={"Authorization": f"Bearer {SANDBOX.secret_key}"}
        )
        assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    src = new_source()
    assert src.last_response is not None and src.last_response.request_id.startswith("req_")


def test_idempotent_replay_conflict_and_expiry(sqlite_sdk: LiveKasse) -> None:
    first = new_source(idempotency_key="order-42")
    again = new_source(idempotency_key="order-42")
    assert again.id == first.id and again.client_secret == first.client_secret
    assert again.last_response is not None and again.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError) as caught:
        new_source(amount=2000, idempotency_key="order-42")
    assert caught.value.http_status == 400 and caught.value.error is not None
    assert caught.value.error.type == "idempotency_error"
    assert len(stripe.Event.list().data) == 0 and _rows(sqlite_sdk)[0] == 1
    sqlite_sdk.advance(DAY_S + 1)  # keys are kept 24 hours
    later = new_source(amount=2000, idempotency_key="order-42")
    assert later.id != first.id and later.amount == 2000


def test_source_update_and_retrieve(sqlite_sdk: LiveKasse) -> None:
    src = new_source(metadata={"order": "42", "cart": "7"})
    updated = stripe.Source.modify(src.id, metadata={"order": "43", "cart": ""}, owner={"phone": "+49301234"})
    assert updated.metadata.to_dict() == {"order": "43"}
    assert (updated.owner.phone, updated.owner.email) == ("+49301234", "jenny@example.com")
    assert stripe.Source.retrieve(src.id).metadata.to_dict() == {"order": "43"}


def test_lists_events_and_expansion(sqlite_sdk: LiveKasse) -> None:
    first = charge(chargeable_source(sqlite_sdk), metadata={"n": "1"})
    second = charge(chargeable_source(sqlite_sdk), metadata={"n": "2"})
    page = stripe.Charge.list(limit=1)
    assert (page.object, page.url, page.has_more, [c.id for c in page.data]) == (
        "list",
        "/v1/charges",
        True,
        [second.id],
    )
    assert [c.id for c in stripe.Charge.list(limit=1, starting_after=second.id).data] == [first.id]
    assert [c.id for c in stripe.Charge.list(ending_before=first.id).data] == [second.id]

    events = stripe.Event.list(limit=100)
    types = [e.type for e in events.data]
    assert types == ["charge.pending", "source.chargeable", "charge.pending", "source.chargeable"]
    assert [e.type for e in stripe.Event.list(type="source.*").data] == ["source.chargeable"] * 2
    assert len(stripe.Event.list(types=["charge.pending", "charge.succeeded"]).data) == 2
    newest = events.data[0]
    assert stripe.Event.list(created={"gt": newest.created + 10}).data == []
    assert len(stripe.Event.list(created={"gte": newest.created - 60}).data) == 4
    assert [e.id for e in stripe.Event.list(starting_after=newest.id, limit=1).data] == [events.data[1].id]
    event = stripe.Event.retrieve(newest.id)
    assert (event.object, event.livemode, event.data.object.object) == ("event", False, "charge")
    assert event.data.object.source.redirect.url.startswith(sqlite_sdk.url + "/pay/")

    expanded = stripe.Charge.retrieve(first.id, expand=["balance_transaction", "source"])
    assert expanded.balance_transaction.object == "balance_transaction"
    assert (expanded.balance_transaction.status, expanded.balance_transaction.source) == ("pending", first.id)
    assert expanded.source.object == "source" and expanded.refunds.total_count == 0
    assert stripe.BalanceTransaction.retrieve(expanded.balance_transaction.id).amount == 1099
    assert len(stripe.BalanceTransaction.list().data) == 2


def test_legacy_refund_endpoint_answers_with_the_charge(sqlite_sdk: LiveKasse) -> None:
    ch = charge(chargeable_source(sqlite_sdk))
    client = support.client(sqlite_sdk)
    raw = client.raw_request("post", f"/v1/charges/{ch.id}/refund", amount=99)
    refunded = client.deserialize(raw, api_mode="V1")
    assert (refunded.object, refunded.id, refunded.amount_refunded) == ("charge", ch.id, 99)
    assert refunded.refunds.data[0].status == "pending"  # the charge is still pending


def test_webhook_endpoints(sqlite_sdk: LiveKasse) -> None:
    created = stripe.WebhookEndpoint.create(url="https://shop.example/hook", enabled_events=["source.chargeable"])
    assert created.secret.startswith("whsec_") and created.status == "enabled"
    fetched = stripe.WebhookEndpoint.retrieve(created.id)
    assert "secret" not in fetched.to_dict() and fetched.enabled_events == ["source.chargeable"]
    changed = stripe.WebhookEndpoint.modify(created.id, enabled_events=["*"], disabled=True)
    assert (changed.enabled_events, changed.status) == (["*"], "disabled")
    assert [e.id for e in stripe.WebhookEndpoint.list().data] == [created.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.WebhookEndpoint.create(url="https://shop.example/hook", enabled_events=["payment.created"])
    assert (caught.value.code, caught.value.param) == (None, "enabled_events[0]")
    deleted = stripe.WebhookEndpoint.delete(created.id)
    assert deleted.deleted is True
    assert stripe.WebhookEndpoint.list().data == []


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/", "http://[fe80::1]/",
            "http://2852039166/", "javascript:alert(1)", "https://shop.example/h\r\nX: 1"],
)  # fmt: skip
def test_webhook_endpoints_to_internal_or_unsafe_urls_are_refused(sqlite_sdk: LiveKasse, url: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.WebhookEndpoint.create(url=url, enabled_events=["source.chargeable"])
    assert (caught.value.code, caught.value.param, caught.value.http_status) == ("url_invalid", "url", 400)
    assert stripe.WebhookEndpoint.list().data == []
    created = stripe.WebhookEndpoint.create(url="http://127.0.0.1:9/hook", enabled_events=["source.chargeable"])
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.WebhookEndpoint.modify(created.id, url=url)
    assert (caught.value.code, caught.value.param) == ("url_invalid", "url")
    assert stripe.WebhookEndpoint.retrieve(created.id).url == "http://127.0.0.1:9/hook"


def test_failure_rate_is_configurable_and_deterministic(sqlite_sdk: LiveKasse) -> None:
    r = sqlite_sdk.api.post("/stripe/_sandbox/settings", data={"sofort_failure_rate": "0.5"})
    assert r.json()["sofort_failure_rate"] == 0.5
    assert sqlite_sdk.api.post("/stripe/_sandbox/settings", data={"sofort_failure_rate": "2"}).status_code == 400
    charges = [charge(chargeable_source(sqlite_sdk)) for _ in range(6)]
    sqlite_sdk.advance(15 * DAY_S)
    for ch in charges:
        payment_id = "pay_" + ch.source.id.removeprefix("src_")
        expected = "failed" if sampled_failure(payment_id, 0.5) else "succeeded"
        assert stripe.Charge.retrieve(ch.id).status == expected
    sqlite_sdk.check_ledger()


def test_stripe_client_with_base_addresses(sqlite_sdk: LiveKasse) -> None:
    """The non-global style: ``StripeClient(base_addresses={"api": …})`` is the only change."""
    client = support.client(sqlite_sdk)
    params: dict[str, Any] = {
        "type": "sofort", "amount": 1099, "currency": "eur", "redirect": {"return_url": "https://shop/r"},
        "sofort": {"country": "NL"}, "owner": {"email": "x_chargeable@example.com"},
    }  # fmt: skip
    src = client.v1.sources.create(params=params)  # type: ignore[arg-type]  # no sofort key in the SDK's types
    assert src.status == "pending" and client.v1.sources.retrieve(src.id).sofort.country == "NL"
    # "chargeable within seconds of its creation", on the real clock (the scheduler runs every 0.1 s here)
    support.wait(lambda: client.v1.sources.retrieve(src.id).status == "chargeable", timeout_s=10)
    ch = client.v1.charges.create(params={"amount": 1099, "currency": "eur", "source": src.id})
    assert ch.status == "pending" and [c.id for c in client.v1.charges.list().data] == [ch.id]
    refund = client.v1.refunds.create(params={"charge": ch.id, "amount": 100})
    assert client.v1.refunds.retrieve(refund.id).status == "pending"
