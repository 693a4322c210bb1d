"""The MultiSafepay dialect's maps are exhaustive (every engine state, every domain error), and a
notification it renders passes the SDK's own ``Webhook.validate`` — no database, no server."""

from __future__ import annotations

import inspect
import json
import time
from datetime import UTC, datetime

import pytest

from kasse.dialects.multisafepay import cart, notifications, translate
from kasse.dialects.multisafepay import errors as msp_errors
from kasse.domain import errors
from kasse.domain.models import Event, Method, Payment
from kasse.domain.states import PaymentState, RefundState
from kasse.domain.webhooks import EndpointStatus, WebhookEndpoint
from tests.msp_helpers import Webhook
from tests.msp_sdk import load

load()

from multisafepay.util.total_amount import calculate_total_amount_cents  # noqa: E402

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEED_STATUSES = {"initialized", "uncleared", "completed", "void", "expired"}


@pytest.mark.parametrize("state", list(PaymentState))
def test_every_payment_state_has_a_multisafepay_status(state: PaymentState) -> None:
    assert translate.payment_status(state) in SEED_STATUSES | {"declined"}


@pytest.mark.parametrize("state", list(RefundState))
def test_every_refund_state_has_a_multisafepay_status(state: RefundState) -> None:
    assert translate.refund_status(state) in {"reserved", "completed", "declined", "void"}


def test_the_seed_statuses_are_all_reachable() -> None:
    assert {translate.payment_status(s) for s in PaymentState} >= SEED_STATUSES


def _domain_errors() -> list[type[errors.DomainError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.DomainError) and cls is not errors.DomainError
    ]


@pytest.mark.parametrize("error", _domain_errors(), ids=lambda c: c.__name__)
def test_every_domain_error_has_a_multisafepay_error(error: type[errors.DomainError]) -> None:
    instance = errors.DomainError.__new__(error)
    errors.DomainError.__init__(instance, errors.ErrorCode.PARAMETER_INVALID, "Something went wrong")
    mapped = msp_errors.from_domain(instance)
    assert 1000 <= mapped.code <= 1100 and 400 <= mapped.status < 500
    assert msp_errors.error_body(mapped.code, mapped.info) == {
        "success": False, "data": {}, "error_code": mapped.code, "error_info": mapped.info,
    }  # fmt: skip


def _payment(**changes: object) -> Payment:
    values: dict[str, object] = {
        "id": "pay_1", "merchant_id": "mer_1", "origin": "multisafepay", "amount_minor": 12345,
        "currency": "EUR", "method": Method.SOFORT, "country": "DE", "status": PaymentState.SUCCEEDED,
        "capture_method": "automatic", "redirect_token": "tok", "created_at": NOW, "updated_at": NOW,
        "expires_at": NOW, "reference": "bestelling-ä-1", "description": "Bücher für Jörg",
    }  # fmt: skip
    values.update(changes)
    return Payment(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("refunded", "status"), [(0, "completed"), (100, "partial_refunded"), (12345, "refunded")])
def test_refunds_change_the_order_status(refunded: int, status: str) -> None:
    assert translate.order_status(_payment(amount_refunded_minor=refunded)) == status


def test_a_rendered_notification_validates_with_the_sdk() -> None:
    order = translate.order_out(_payment(), [])
    event = Event("evt_1", "mer_1", "multisafepay:order.we_1", "payment", "pay_1", "pay_1",
                  {"object": order, "notification_method": "POST"}, NOW)  # fmt: skip
    endpoint = WebhookEndpoint("we_1", "mer_1", "multisafepay", "https://shop.example/notify?shop=7", "the-api-key",
                               EndpointStatus.ENABLED, NOW, NOW)  # fmt: skip
    now_s = int(time.time())  # the SDK checks the timestamp against real time
    rendered = notifications.render(event, endpoint, base_url="http://kasse", wall_s=now_s)
    assert rendered.method == "POST"
    assert rendered.url == f"https://shop.example/notify?shop=7&transactionid=bestelling-%C3%A4-1&timestamp={now_s}"
    body = rendered.body.decode()
    assert "Bücher" in body and ", " not in body  # compact and not ASCII-escaped, as the SDK re-serialises
    assert json.loads(body)["order_id"] == "bestelling-ä-1"
    assert Webhook.validate(request=body, auth=rendered.headers["Auth"], api_key="the-api-key") is True
    assert Webhook.validate(request=body, auth=rendered.headers["Auth"], api_key="another-key") is False
    stale = notifications.render(event, endpoint, base_url="http://kasse", wall_s=now_s - 3600)
    assert Webhook.validate(request=stale.body.decode(), auth=stale.headers["Auth"], api_key="the-api-key") is False


@pytest.mark.parametrize(
    ("text", "ok"), [("OK", True), ("ok", False), ("  OK\n", True), ("MULTISAFEPAY_OK", True), ("error", False)]
)
def test_what_acknowledges_a_notification(text: str, ok: bool) -> None:
    assert notifications.acknowledged(200, text) is ok


_TABLES = {
    "tax_tables": {
        "default": {"shipping_taxed": True, "rate": 0.21},
        "alternate": [{"name": "BTW9", "rules": [{"rate": 0.09}]}, {"name": "none", "rules": [{"rate": 0}]}],
    }
}


@pytest.mark.parametrize(
    "items",
    [
        [{"unit_price": 10, "quantity": 2, "tax_table_selector": "BTW9"}],
        [{"unit_price": "8.40", "quantity": 1, "tax_table_selector": "other"}],  # the default table
        [{"unit_price": 0.333, "quantity": 3, "tax_table_selector": "BTW9"}, {"unit_price": 5, "quantity": 1}],
        [
            {"unit_price": 90, "quantity": 3, "tax_table_selector": "none"},
            {"unit_price": -90, "quantity": 2, "tax_table_selector": "none"},
            {"unit_price": 10, "quantity": 1, "tax_table_selector": "BTW9"},
        ],
    ],
)
def test_cart_totals_are_the_sdks(items: list[dict[str, object]]) -> None:
    """Kasse's cart total is what the SDK's own mirror of the API computes (tax per line, rounded half up
    at the end), so a refund by item refunds what MultiSafepay would."""
    data = {"shopping_cart": {"items": items}, "checkout_options": _TABLES}
    assert cart.total_minor(data["shopping_cart"], _TABLES) == calculate_total_amount_cents(data)
