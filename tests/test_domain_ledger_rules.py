"""Ledger transfers and balances, provider rules as data, and event snapshots (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kasse.dialects.native.rules import RULES as NATIVE
from kasse.dialects.registry import DIALECTS, hooks
from kasse.domain.ledger import Account, Leg, Transfer, TransferKind, balances, check_transfer, move
from kasse.domain.models import (
    Approval,
    Capture,
    CaptureMethod,
    Method,
    Payment,
    Refund,
    Scenario,
    Settlement,
    from_snapshot,
    snapshot,
)
from kasse.domain.rules import DAY_S, KLARNA_COUNTRY_CURRENCY
from kasse.domain.states import CaptureState, PaymentState, PaymentTrigger, RefundState

A = Account
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _t(
    id: str, kind: TransferKind, legs: tuple[Leg, ...], *, pending_id: str | None = None, currency: str = "EUR"
) -> Transfer:
    return Transfer(id, "mer_x", currency, kind, "test", legs, NOW, pending_id=pending_id)


def test_move_debits_the_source_and_credits_the_destination() -> None:
    assert move(A.CUSTOMER, A.INCOMING, 500) == (Leg(A.CUSTOMER, -500), Leg(A.INCOMING, 500))


def test_check_transfer_accepts_balanced_transfers() -> None:
    check_transfer(_t("tr_1", TransferKind.POSTED, move(A.INCOMING, A.AVAILABLE, 10)))
    check_transfer(_t("tr_2", TransferKind.PENDING, move(A.CUSTOMER, A.INCOMING, 10)))
    check_transfer(_t("tr_3", TransferKind.POST, move(A.CUSTOMER, A.INCOMING, 5), pending_id="tr_2"))
    check_transfer(_t("tr_4", TransferKind.VOID, move(A.CUSTOMER, A.INCOMING, 5), pending_id="tr_2"))


def test_check_transfer_refuses_legs_that_do_not_sum_to_zero() -> None:
    with pytest.raises(ValueError, match="sum to zero"):
        check_transfer(_t("tr_1", TransferKind.POSTED, (Leg(A.CUSTOMER, -10), Leg(A.INCOMING, 9))))


@pytest.mark.parametrize(
    ("kind", "pending_id"),
    [
        (TransferKind.POST, None),
        (TransferKind.VOID, None),
        (TransferKind.POSTED, "tr_0"),
        (TransferKind.PENDING, "tr_0"),
    ],
)
def test_only_post_and_void_resolve_a_pending_transfer(kind: TransferKind, pending_id: str | None) -> None:
    with pytest.raises(ValueError, match="resolve"):
        check_transfer(_t("tr_1", kind, move(A.CUSTOMER, A.INCOMING, 10), pending_id=pending_id))


def test_moves_money() -> None:
    legs = move(A.CUSTOMER, A.INCOMING, 1)
    assert _t("a", TransferKind.POSTED, legs).moves_money
    assert _t("b", TransferKind.POST, legs, pending_id="x").moves_money
    assert not _t("c", TransferKind.PENDING, legs).moves_money
    assert not _t("d", TransferKind.VOID, legs, pending_id="x").moves_money


def test_balances_follow_the_two_phase_lifecycle() -> None:
    auth = _t("tr_1", TransferKind.PENDING, move(A.CUSTOMER, A.INCOMING, 1000))
    assert balances([auth]) == {("EUR", A.CUSTOMER): (0, -1000), ("EUR", A.INCOMING): (0, 1000)}
    post = _t("tr_2", TransferKind.POST, move(A.CUSTOMER, A.INCOMING, 600), pending_id="tr_1")
    assert balances([auth, post]) == {("EUR", A.CUSTOMER): (-600, 0), ("EUR", A.INCOMING): (600, 0)}
    settle = _t("tr_3", TransferKind.POSTED, move(A.INCOMING, A.AVAILABLE, 600))
    refund = _t("tr_4", TransferKind.POSTED, move(A.AVAILABLE, A.CUSTOMER, 100))
    assert balances([auth, post, settle, refund]) == {
        ("EUR", A.CUSTOMER): (-500, 0),
        ("EUR", A.INCOMING): (0, 0),
        ("EUR", A.AVAILABLE): (500, 0),
    }


def test_a_void_releases_the_reservation_and_moves_nothing() -> None:
    auth = _t("tr_1", TransferKind.PENDING, move(A.CUSTOMER, A.INCOMING, 1000))
    void = _t("tr_2", TransferKind.VOID, move(A.CUSTOMER, A.INCOMING, 1000), pending_id="tr_1")
    assert balances([auth, void]) == {("EUR", A.CUSTOMER): (0, 0), ("EUR", A.INCOMING): (0, 0)}


def test_balances_keep_currencies_apart() -> None:
    eur = _t("tr_1", TransferKind.POSTED, move(A.INCOMING, A.AVAILABLE, 100))
    chf = _t("tr_2", TransferKind.POSTED, move(A.INCOMING, A.AVAILABLE, 7), currency="CHF")
    out = balances([eur, chf])
    assert out[("EUR", A.AVAILABLE)] == (100, 0)
    assert out[("CHF", A.AVAILABLE)] == (7, 0)


# --- rules -----------------------------------------------------------------------------------------


def test_native_rules_match_the_spec() -> None:
    native = hooks().rules["native"]
    assert native is NATIVE
    assert native.action_window_s == DAY_S == 86_400
    assert native.unused_authorization_s == 7 * DAY_S
    assert native.unused_authorization_trigger is PaymentTrigger.EXPIRE
    assert native.settlement_delay(Method.SOFORT) == 2 * DAY_S
    for method in Method:
        if method.is_klarna:
            assert native.settlement_delay(method) == DAY_S
    assert native.refund_delay_s == 0
    assert native.min_amount_minor >= 1


def test_every_dialect_brings_its_rules_to_the_engine() -> None:
    assert dict(hooks().rules) == {name: dialect.rules for name, dialect in DIALECTS.items()}


def test_every_method_has_countries_and_currencies() -> None:
    assert set(NATIVE.countries) == set(NATIVE.currencies) == set(Method)
    for rules in hooks().rules.values():  # a provider offers some of the methods (Stripe, MultiSafepay: Sofort)
        assert rules.countries and set(rules.countries) == set(rules.currencies) <= set(Method)
        assert all(rules.countries[m] and rules.currencies[m] for m in rules.countries)


def test_klarna_currency_follows_the_country_and_is_accepted() -> None:
    native = NATIVE
    for country, currency in KLARNA_COUNTRY_CURRENCY.items():
        for method in Method:
            if method.is_klarna:
                assert country in native.countries[method]
                assert currency in native.currencies[method]
    assert KLARNA_COUNTRY_CURRENCY["DE"] == "EUR" and KLARNA_COUNTRY_CURRENCY["SE"] == "SEK"


def test_sofort_takes_eur_and_chf() -> None:
    assert NATIVE.currencies[Method.SOFORT] == frozenset({"EUR", "CHF"})
    assert {"DE", "AT", "CH", "NL"} <= NATIVE.countries[Method.SOFORT]


def test_method_knows_if_it_is_klarna() -> None:
    assert not Method.SOFORT.is_klarna
    assert {m for m in Method if m.is_klarna} == set(Method) - {Method.SOFORT}


# --- event snapshots -------------------------------------------------------------------------------


def test_snapshots_are_json_safe_and_round_trip() -> None:
    payment = Payment(
        id="pay_1", merchant_id="mer_x", origin="native", amount_minor=1234, currency="EUR",
        method=Method.KLARNA_PAY_LATER, country="DE", status=PaymentState.AUTHORIZED,
        capture_method=CaptureMethod.MANUAL, redirect_token="tok", created_at=NOW, updated_at=NOW,
        expires_at=NOW, customer={"name": "Jörg", "tags": ["a", "b"]}, metadata={"order": "42"},
        scenario=Scenario(Approval.APPROVE, Settlement.FAIL), authorized_at=NOW, amount_capturable_minor=1234,
    )  # fmt: skip
    capture = Capture("cap_1", "mer_x", "pay_1", 500, "EUR", CaptureState.PENDING, False, NOW, NOW, NOW, 2)
    refund = Refund("rfd_1", "mer_x", "pay_1", 100, "EUR", RefundState.PENDING, NOW, NOW, deferred=True)
    for kind, obj in (("payment", payment), ("capture", capture), ("refund", refund)):
        data = snapshot(obj)
        assert all(not isinstance(v, datetime) for v in data.values())
        assert data["status"] == obj.status.value and type(data["status"]) is str
        assert from_snapshot(kind, data) == obj
    assert snapshot(payment)["scenario"] == {"approval": "approve", "settlement": "fail"}
    with pytest.raises(ValueError, match="unknown object kind"):
        from_snapshot("merchant", {})
