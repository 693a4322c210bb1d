"""What the Stripe dialect knows by name is what stripe-python 16.1.0 declares: the event types a webhook
endpoint may enable, the API versions, and the error codes (every code the dialect can send is one of
Stripe's). No server: the package's own type declarations against Kasse's tables."""

from __future__ import annotations

import typing
from typing import Any

import stripe
from stripe._api_version import _ApiVersion
from stripe.params._webhook_endpoint_create_params import WebhookEndpointCreateParams

from kasse.dialects.stripe.catalog import API_VERSIONS, CURRENT_VERSION, EVENT_TYPES, known_version
from kasse.dialects.stripe.errors import STRIPE_ERRORS, StripeCode
from kasse.dialects.stripe.expand import EXPANDABLE
from tests.stripe_shapes import RESOURCES, hints


def _literals(tp: Any) -> list[str]:
    found: list[str] = []
    for arg in typing.get_args(tp):
        found += [arg] if isinstance(arg, str) else _literals(arg)
    return found


def test_event_types_and_versions_are_the_packages() -> None:
    declared = WebhookEndpointCreateParams.__annotations__
    assert set(_literals(declared["enabled_events"])) == EVENT_TYPES | {"*"}
    assert tuple(_literals(declared["api_version"])) == API_VERSIONS
    assert CURRENT_VERSION == _ApiVersion.CURRENT


def test_versions_are_checked_by_format_and_by_name() -> None:
    assert known_version("2026-10-28.endive") == known_version("2026-10-28") == "2026-10-28.endive"
    assert known_version("2020-08-27") == "2020-08-27"
    for bad in ("2020-08-27.acacia", "2020-13-45", "latest", "2026-10-28.", "", "2026-10-28.endive;x"):
        assert known_version(bad) is None, bad


def test_every_error_code_is_one_stripe_knows() -> None:
    known = set(_literals(hints(stripe.PaymentIntent.LastPaymentError)["code"]))
    sent = {e.code for e in STRIPE_ERRORS.values() if e.code is not None} | {c.value for c in StripeCode}
    assert sent <= known, sorted(sent - known)
    assert "not_found" not in sent and "method_not_allowed" not in sent


def test_expandable_fields_are_declared_expandable() -> None:
    """Each field of the expansion table is an ``ExpandableField`` (or an inline object) in the SDK."""
    for name, fields in EXPANDABLE.items():
        declared = hints(RESOURCES[name])
        for field in fields:
            assert field in declared, (name, field)
            assert "str" in str(declared[field]) or "ListObject" in str(declared[field]) or field == "source", (
                name,
                field,
            )
