"""The Stripe dialect's maps are total (every engine state and every domain error has a Stripe word), ids
map both ways, the bracket codec decodes what stripe-python encodes, and the webhook signature is the one
stripe-python verifies."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import stripe

from kasse.codecs.bracket import decode_bracket_form
from kasse.dialects.stripe import translate
from kasse.dialects.stripe.errors import stripe_error_response
from kasse.dialects.stripe.notifications import signature_header
from kasse.domain import errors
from kasse.domain.ids import new_id
from kasse.domain.models import CaptureMethod, Method, Payment
from kasse.domain.states import CaptureState, PaymentState, RefundState
from tests.test_architecture import _domain_errors

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _payment(state: PaymentState, **fields: object) -> Payment:
    values: dict[str, object] = {
        "id": new_id("pay", NOW), "merchant_id": "mer_x", "origin": "stripe", "amount_minor": 1099,
        "currency": "EUR", "method": Method.SOFORT, "country": "DE", "status": state,
        "capture_method": CaptureMethod.MANUAL, "redirect_token": "tok", "created_at": NOW, "updated_at": NOW,
        "expires_at": NOW, **fields,
    }  # fmt: skip
    return Payment(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("state", list(PaymentState))
def test_every_payment_state_is_a_source_status(state: PaymentState) -> None:
    assert translate.source_status(_payment(state)) in {"pending", "chargeable", "consumed", "failed", "canceled"}
    assert translate.source_out(_payment(state), "http://k")["status"] == translate.source_status(_payment(state))


def test_source_statuses_follow_the_seed() -> None:
    assert translate.source_status(_payment(PaymentState.REQUIRES_ACTION)) == "pending"
    assert translate.source_status(_payment(PaymentState.AUTHORIZED, authorized_at=NOW)) == "chargeable"
    assert translate.source_status(_payment(PaymentState.PROCESSING, authorized_at=NOW)) == "consumed"
    assert translate.source_status(_payment(PaymentState.FAILED)) == "failed"  # declined at the bank
    assert translate.source_status(_payment(PaymentState.FAILED, authorized_at=NOW)) == "consumed"  # charge failed
    aborted = _payment(PaymentState.CANCELED, cancellation_reason="requested_by_customer")
    assert translate.source_status(aborted) == "failed"
    assert translate.source_out(aborted, "")["redirect"]["failure_reason"] == "user_abort"
    unused = _payment(PaymentState.CANCELED, authorized_at=NOW, cancellation_reason="abandoned")
    assert translate.source_status(unused) == "canceled"
    assert translate.source_status(_payment(PaymentState.EXPIRED)) == "canceled"


@pytest.mark.parametrize("state", list(CaptureState))
def test_every_capture_state_is_a_charge_status(state: CaptureState) -> None:
    from kasse.domain.models import Capture

    cap = Capture("cap_X", "mer_x", "pay_X", 1099, "EUR", state, True, NOW, NOW, NOW)
    assert translate.charge_status(cap) in {"pending", "succeeded", "failed"}


@pytest.mark.parametrize("state", list(RefundState))
def test_every_refund_state_is_a_refund_status(state: RefundState) -> None:
    from kasse.domain.models import Refund

    assert translate.refund_status(Refund("rfd_X", "mer_x", "pay_X", 1, "EUR", state, NOW, NOW)) == state.value


@pytest.mark.parametrize("error", _domain_errors())
def test_every_domain_error_has_a_stripe_status(error: type[errors.DomainError]) -> None:
    # The status follows the code (STRIPE_ERRORS, every code: test_dialect_maps).
    instance = errors.DomainError.__new__(error)
    errors.DomainError.__init__(instance, errors.ErrorCode.PARAMETER_INVALID, "Something went wrong")
    assert 400 <= stripe_error_response(instance).status_code < 600


def test_idempotency_mismatch_is_an_idempotency_error() -> None:
    body = json.loads(bytes(stripe_error_response(errors.IdempotencyMismatch("k")).body))
    assert body["error"]["type"] == "idempotency_error"


def test_ids_map_both_ways() -> None:
    for kasse_id, prefix in [("pay_01ABC", "src"), ("cap_01ABC", "ch"), ("rfd_01ABC", "re"), ("tr_01ABC", "txn")]:
        stripe_id = translate.stripe_id(kasse_id)
        assert stripe_id == f"{prefix}_01ABC"
        assert translate.kasse_id(stripe_id, prefix) == kasse_id
    assert translate.kasse_id("ch_01ABC", "src") is None
    assert translate.kasse_id("src_", "src") is None


def test_bracket_codec_decodes_what_stripe_python_sends() -> None:
    body = (
        "type=sofort&amount=1099&redirect[return_url]=https%3A%2F%2Fshop%2Fret%3Fa%3D1&sofort[country]=DE"
        "&owner[address][city]=Berlin&metadata[order]=42&expand[0]=source&expand[1]=balance_transaction"
        "&types[]=charge.pending&types[]=charge.failed&metadata%5Bcart%5D=7"
    )
    assert decode_bracket_form(body) == {
        "type": "sofort", "amount": "1099", "redirect": {"return_url": "https://shop/ret?a=1"},
        "sofort": {"country": "DE"}, "owner": {"address": {"city": "Berlin"}},
        "metadata": {"order": "42", "cart": "7"}, "expand": ["source", "balance_transaction"],
        "types": ["charge.pending", "charge.failed"],
    }  # fmt: skip


@pytest.mark.parametrize("body", ["a[b=1", "a=1&a[b]=2", "a[b]=1&a=2", "a[][x]=1", "a[b][c][d][e][f]=1"])
def test_bracket_codec_refuses_malformed_keys(body: str) -> None:
    with pytest.raises(errors.InvalidRequest):
        decode_bracket_form(body)


def test_signature_is_what_stripe_python_verifies() -> None:
    secret, body = "whsec_test", json.dumps({"id": "evt_1", "object": "event", "type": "source.chargeable"})
    header = signature_header(secret, int(time.time()), body.encode())
    event = stripe.Webhook.construct_event(body, header, secret)
    assert event.type == "source.chargeable"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace("evt_1", "evt_2"), header, secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature_header(secret, int(time.time()) - 400, body.encode()), secret)
