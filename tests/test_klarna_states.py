"""The payment request's transition table (the Klarna dialect's one door), without a database, and the
pure parts of the dialect: the return URL's placeholders and the webhook signature."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from kasse.dialects.klarna.model import PaymentRequest
from kasse.dialects.klarna.notifications import signature
from kasse.dialects.klarna.redirects import request_return_url
from kasse.dialects.klarna.states import REQUEST_TRANSITIONS, RequestState, RequestTrigger, apply_request
from kasse.domain.errors import InvalidTransition

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_final_states_have_no_way_out() -> None:
    for state in RequestState:
        leaving = [t for (s, t) in REQUEST_TRANSITIONS if s is state]
        assert (not leaving) is state.final, state


@pytest.mark.parametrize("state", [s for s in RequestState if s.final])
@pytest.mark.parametrize("trigger", list(RequestTrigger))
def test_a_final_request_refuses_every_trigger(state: RequestState, trigger: RequestTrigger) -> None:
    with pytest.raises(InvalidTransition) as info:
        apply_request(state, trigger)
    assert (info.value.state, info.value.trigger) == (state.value, trigger.value)


def test_the_journey_through_the_table() -> None:
    state = RequestState.SUBMITTED
    for trigger, expected in [(RequestTrigger.OPEN, RequestState.IN_PROGRESS),
                              (RequestTrigger.ABORT, RequestState.SUBMITTED),
                              (RequestTrigger.OPEN, RequestState.IN_PROGRESS),
                              (RequestTrigger.APPROVE, RequestState.COMPLETED)]:  # fmt: skip
        state = apply_request(state, trigger)
        assert state is expected
    with pytest.raises(InvalidTransition):
        apply_request(RequestState.SUBMITTED, RequestTrigger.APPROVE)  # the customer must open it first


def _request(return_url: str | None) -> PaymentRequest:
    config = {"return_url": return_url} if return_url else {}
    return PaymentRequest(
        id="8f7d0e8e-0000-4000-8000-000000000001", merchant_id="mer_x", state=RequestState.COMPLETED,
        currency="EUR", amount_minor=100, reference="order 7/8", account_id="acc",
        body={"customer_interaction_config": config}, customer={}, page_token="p", created_at=NOW, updated_at=NOW,
        expires_at=NOW, payment_token="krn:payment:eu1:payment-token:1", session_token="krn:s:1",
    )  # fmt: skip


def test_return_url_placeholders_are_filled_and_encoded() -> None:
    url = request_return_url(_request(
        "https://shop.example/r?id={klarna.payment_request.id}&s={klarna.payment_request.state}"
        "&t={klarna.payment_request.payment_token}&ref={klarna.payment_request.payment_request_reference}&keep={x}"
    ))  # fmt: skip
    assert url == (
        "https://shop.example/r?id=krn%3Apayment%3Aeu1%3Arequest%3A8f7d0e8e-0000-4000-8000-000000000001"
        "&s=COMPLETED&t=krn%3Apayment%3Aeu1%3Apayment-token%3A1&ref=order%207%2F8&keep={x}"
    )
    assert request_return_url(_request(None)) is None


def test_the_signature_is_lowercase_hex_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"metadata":{},"payload":{}}'
    expected = hmac.new(b"key", body, hashlib.sha256).hexdigest()
    assert signature("key", body) == expected == expected.lower()
