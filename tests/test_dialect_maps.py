"""Every dialect names every engine state and answers every engine error code (STYLE rule 6): the maps are
total, with no default branch, so a new ``ErrorCode`` or state fails here until each dialect maps it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, assert_never

import pytest

from kasse.dialects.klarna import errors as klarna_errors
from kasse.dialects.klarna import translate as klarna
from kasse.dialects.klarna.data import KlarnaTransactionData
from kasse.dialects.multisafepay import errors as msp_errors
from kasse.dialects.multisafepay import translate as msp
from kasse.dialects.native import errors as native_errors
from kasse.dialects.native import translate as native
from kasse.dialects.native.errors import error_response
from kasse.dialects.payone import errors as payone_errors
from kasse.dialects.payone import routes as payone_routes
from kasse.dialects.payone import translate as payone
from kasse.dialects.registry import DIALECTS as REGISTRY
from kasse.dialects.secuconnect import errors as secu_errors
from kasse.dialects.secuconnect import translate as secu
from kasse.dialects.stripe import errors as stripe_errors
from kasse.dialects.stripe import translate as stripe
from kasse.domain.errors import DomainError, ErrorCode, InvalidRequest
from kasse.domain.models import Capture, CaptureMethod, Method, Payment, Refund
from kasse.domain.states import CaptureState, PaymentState, RefundState

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
REQUIRED_STATES: tuple[type[Enum], ...] = (PaymentState, RefundState)


@dataclass(frozen=True)
class DialectMaps:
    name: str
    errors: Mapping[ErrorCode, object]  # the dialect's error map, keyed by engine code
    render: Callable[[DomainError], tuple[int, bytes]]  # what its edge answers: status and body
    states: Mapping[type[Enum], Callable[[Any], str]]  # engine state → the dialect's word
    error_status: range = range(400, 500)  # PAYONE answers every error with HTTP 200 and status=ERROR


def _payment(state: PaymentState) -> Payment:
    return Payment(
        id="pay_X", merchant_id="mer_x", origin="stripe", amount_minor=1099, currency="EUR", method=Method.SOFORT,
        country="DE", status=state, capture_method=CaptureMethod.MANUAL, redirect_token="tok", created_at=NOW,
        updated_at=NOW, expires_at=NOW,
    )  # fmt: skip


def _capture(state: CaptureState) -> Capture:
    return Capture("cap_X", "mer_x", "pay_X", 1099, "EUR", state, True, NOW, NOW, NOW)


def _refund(state: RefundState) -> Refund:
    return Refund("rfd_X", "mer_x", "pay_X", 1099, "EUR", state, NOW, NOW)


def _answer(response: Any) -> tuple[int, bytes]:
    return response.status_code, bytes(response.body)


# One entry per dialect of the registry (test_every_registered_dialect_is_checked).
DIALECTS = [
    DialectMaps(
        "native",
        native_errors.STATUS_FOR,
        lambda exc: _answer(error_response(exc)),
        {PaymentState: native.payment_status, RefundState: native.refund_status},
    ),
    DialectMaps(
        "stripe",
        stripe_errors.STRIPE_ERRORS,
        lambda exc: _answer(stripe_errors.stripe_error_response(exc)),
        {
            PaymentState: lambda s: stripe.source_status(_payment(s)),
            CaptureState: lambda s: stripe.charge_status(
                Capture("cap_X", "mer_x", "pay_X", 1, "EUR", s, True, NOW, NOW, NOW)
            ),
            RefundState: lambda s: stripe.refund_status(Refund("rfd_X", "mer_x", "pay_X", 1, "EUR", s, NOW, NOW)),
        },
    ),
    DialectMaps(
        "multisafepay",
        msp_errors.DOMAIN_CODES,
        lambda exc: _answer(msp_errors.msp_error_response(msp_errors.from_domain(exc))),
        {PaymentState: msp.payment_status, RefundState: msp.refund_status},
    ),
    DialectMaps(
        "secuconnect",
        secu_errors.DOMAIN_ERRORS,
        lambda exc: _answer(secu_errors.error_response(secu_errors.from_domain(exc))),
        {
            PaymentState: lambda s: secu.smart_status(_payment(s)),
            RefundState: lambda s: secu.refund_simple(s).text,
        },
    ),
    DialectMaps(
        "klarna",
        klarna_errors.DOMAIN_CODES,
        lambda exc: _answer(klarna_errors.klarna_error_response(klarna_errors.from_domain(exc))),
        {
            PaymentState: lambda s: klarna.transaction_state(_payment(s), KlarnaTransactionData("krn:x")),
            RefundState: lambda s: klarna.refund_state(_refund(s)),
        },
    ),
    DialectMaps(
        "payone",
        payone_errors.PAYONE_ERRORS,
        lambda exc: _answer(payone_routes.error_response(exc, "application/json")),
        {PaymentState: payone.payment_txaction, RefundState: payone.refund_txaction},
        error_status=range(200, 201),
    ),
]


def unmapped(members: Iterable[Enum], mapping: Mapping[Any, object]) -> list[Enum]:
    return [m for m in members if m not in mapping]


def unnamed(members: Iterable[Enum], name: Callable[[Any], str]) -> list[Enum]:
    """Members the dialect has no word for: ``assert_never`` raises AssertionError on a missing arm at run
    time (mypy already refuses it), a dict lookup KeyError."""
    out = []
    for member in members:
        try:
            word = name(member)
        except (AssertionError, KeyError):
            out.append(member)
            continue
        if not (isinstance(word, str) and word):
            out.append(member)
    return out


def _ids(d: DialectMaps) -> str:
    return d.name


@pytest.mark.parametrize("dialect", DIALECTS, ids=_ids)
def test_every_error_code_is_mapped(dialect: DialectMaps) -> None:
    assert unmapped(ErrorCode, dialect.errors) == []
    assert set(dialect.errors) == set(ErrorCode)  # nothing but engine codes


@pytest.mark.parametrize("code", list(ErrorCode), ids=str)
@pytest.mark.parametrize("dialect", DIALECTS, ids=_ids)
def test_every_error_code_is_answered(dialect: DialectMaps, code: ErrorCode) -> None:
    status, body = dialect.render(InvalidRequest(code, "Something is wrong", param="x"))
    assert status in dialect.error_status
    assert isinstance(json.loads(body), dict)


@pytest.mark.parametrize("dialect", DIALECTS, ids=_ids)
def test_every_engine_state_is_named(dialect: DialectMaps) -> None:
    assert set(REQUIRED_STATES) <= set(dialect.states)
    for enum, name in dialect.states.items():
        assert unnamed(enum, name) == [], f"{dialect.name} has no word for these {enum.__name__} members"


def test_every_registered_dialect_is_checked() -> None:
    """A dialect added to the registry fails here until its maps are listed above."""
    assert [d.name for d in DIALECTS] == list(REGISTRY)


def test_the_native_api_answers_with_the_engine_codes() -> None:
    for code in ErrorCode:
        _, body = DIALECTS[0].render(InvalidRequest(code, "Something is wrong"))
        assert json.loads(body)["error"]["code"] == code.value


# The checks above can fail: a map or a match that misses one member is reported.


def test_a_map_missing_a_code_is_reported() -> None:
    partial = {code: 400 for code in ErrorCode if code is not ErrorCode.PAYMENT_EXPIRED}
    assert unmapped(ErrorCode, partial) == [ErrorCode.PAYMENT_EXPIRED]


def test_a_match_missing_a_state_is_reported() -> None:
    def status(state: PaymentState) -> str:
        S = PaymentState
        match state:
            case S.REQUIRES_ACTION | S.AUTHORIZED | S.PROCESSING | S.SUCCEEDED | S.FAILED | S.CANCELED:
                return state.value
            case _:
                assert_never(state)  # EXPIRED is missing: mypy refuses this in src, and it raises at run time

    assert unnamed(PaymentState, status) == [PaymentState.EXPIRED]
    words = {s: s.value for s in RefundState if s is not RefundState.CANCELED}
    assert unnamed(RefundState, words.__getitem__) == [RefundState.CANCELED]


def test_secuconnect_answers_only_the_simple_statuses_pretix_knows() -> None:
    """pretix-secuconnect crashes on a ``status_simple`` outside its enum: every engine state and refund
    state maps to one of its codes, with secuconnect's lower-case text."""
    from pretix_secuconnect.api_client import PaymentStatusSimple

    known = {s.value for s in PaymentStatusSimple}
    for state in PaymentState:
        payment = _payment(state)
        simple = secu.payment_simple(payment)
        assert int(simple) in known and simple.text == PaymentStatusSimple(int(simple)).name.lower()
        assert secu.check_status_out(payment)["status_simple"] in known
    for refund_state in RefundState:
        assert int(secu.refund_simple(refund_state)) in known
    assert {int(s) for s in secu.StatusSimple} == known


def test_secuconnect_errors_have_its_shape() -> None:
    status, body = DIALECTS[3].render(InvalidRequest(ErrorCode.AMOUNT_TOO_LARGE, "too much"))
    answer = json.loads(body)
    assert status == 400 and set(answer) == {"status", "error", "error_details", "error_user", "code", "supportId"}
    assert answer["status"] == "error" and answer["error_details"] == "too much" and len(answer["supportId"]) == 32


def test_payone_answers_every_engine_error_as_status_error_with_a_numeric_code() -> None:
    for code in ErrorCode:
        _, body = DIALECTS[-1].render(InvalidRequest(code, "Something is wrong", param="x"))
        answer = json.loads(body)
        assert answer["Status"] == "ERROR" and answer["Error"]["ErrorCode"].isdigit()
        assert answer["Error"]["CustomerMessage"]


def test_payone_txaction_covers_every_engine_event() -> None:
    from kasse.domain.events import EventType

    assert set(payone.EVENT_TXACTION) == set(EventType)
