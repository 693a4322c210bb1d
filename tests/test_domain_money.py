"""Money: integer minor units plus an ISO 4217 code; exact conversion; no floats, no mixing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kasse.domain.errors import InvalidRequest
from kasse.domain.money import CURRENCY_EXPONENTS, Money, exponent, major_to_minor, minor_to_major, require_minor


@pytest.mark.parametrize(
    ("currency", "expected"),
    [("EUR", 2), ("USD", 2), ("CHF", 2), ("GBP", 2), ("JPY", 0), ("KRW", 0), ("ISK", 0), ("KWD", 3), ("BHD", 3)],
)
def test_exponent_follows_iso_4217(currency: str, expected: int) -> None:
    assert exponent(currency) == expected


def test_every_code_is_three_upper_case_letters_with_a_known_exponent() -> None:
    assert all(len(c) == 3 and c.isalpha() and c.isupper() for c in CURRENCY_EXPONENTS)
    assert set(CURRENCY_EXPONENTS.values()) <= {0, 2, 3, 4}


@pytest.mark.parametrize("code", ["eur", "EURO", "XXX", "", "ZZZ"])
def test_unknown_currency_is_an_invalid_request(code: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        exponent(code)
    assert err.value.code == "invalid_currency"
    assert err.value.param == "currency"


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("10.00", "EUR", 1000),
        ("10", "EUR", 1000),
        ("10.5", "EUR", 1050),
        ("0.01", "EUR", 1),
        (" 7.25 ", "EUR", 725),
        ("10.010", "EUR", 1001),  # trailing zeros are exact
        ("1000", "JPY", 1000),
        ("1000.0", "JPY", 1000),
        ("1.234", "KWD", 1234),
        ("0.001", "KWD", 1),
        ("99999999.99", "EUR", 9_999_999_999),
        ("1E+2", "EUR", 10000),
        (Decimal("12.34"), "EUR", 1234),
        (Decimal("12.3400"), "EUR", 1234),
        (12, "EUR", 1200),
        (12, "JPY", 12),
    ],
)
def test_major_to_minor_is_exact(value: str | Decimal | int, currency: str, minor: int) -> None:
    result = major_to_minor(value, currency)
    assert result == minor
    assert type(result) is int


@pytest.mark.parametrize(
    ("value", "currency"),
    [("10.001", "EUR"), ("0.005", "EUR"), ("1.5", "JPY"), ("0.0001", "KWD"), (Decimal("0.999"), "EUR")],
)
def test_major_to_minor_rejects_what_the_currency_cannot_represent(value: str | Decimal, currency: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        major_to_minor(value, currency, param="amount_total")
    assert err.value.code == "invalid_amount"
    assert err.value.param == "amount_total"
    assert currency in err.value.message


@pytest.mark.parametrize("value", ["", "abc", "1,00", "10 EUR", "NaN", "Infinity", "-Infinity", "sNaN"])
def test_major_to_minor_rejects_what_is_not_a_number(value: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        major_to_minor(value, "EUR")
    assert err.value.code == "invalid_amount"


@pytest.mark.parametrize("value", [0.1, 10.0, True])
def test_major_to_minor_refuses_floats_and_bools(value: object) -> None:
    # A float has already lost exactness (0.1 is not 1/10); amounts arrive as strings or Decimals.
    with pytest.raises(TypeError):
        major_to_minor(value, "EUR")  # type: ignore[arg-type]


def test_major_to_minor_with_unknown_currency() -> None:
    with pytest.raises(InvalidRequest) as err:
        major_to_minor("1.00", "ABC")
    assert err.value.code == "invalid_currency"


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [(1000, "EUR", "10.00"), (1, "EUR", "0.01"), (-250, "EUR", "-2.50"), (500, "JPY", "500"), (1, "KWD", "0.001")],
)
def test_minor_to_major_shows_the_currency_scale(minor: int, currency: str, major: str) -> None:
    value = minor_to_major(minor, currency)
    assert isinstance(value, Decimal)
    assert str(value) == major


@given(
    minor=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(sorted(CURRENCY_EXPONENTS)),
)
def test_minor_major_round_trip(minor: int, currency: str) -> None:
    assert major_to_minor(minor_to_major(minor, currency), currency) == minor
    assert major_to_minor(str(minor_to_major(minor, currency)), currency) == minor


def test_money_adds_and_subtracts_in_one_currency() -> None:
    a, b = Money(1050, "EUR"), Money(250, "EUR")
    assert a + b == Money(1300, "EUR")
    assert a - b == Money(800, "EUR")
    assert -b == Money(-250, "EUR")
    assert b < a
    assert b <= a
    assert a <= Money(1050, "EUR")
    assert a > b
    assert not a < b
    assert a.major() == Decimal("10.50")
    assert str(a) == "10.50 EUR"
    assert str(Money(1234, "KWD")) == "1.234 KWD"


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
    ],
)
def test_money_refuses_to_mix_currencies(operation: object) -> None:
    with pytest.raises(ValueError, match=r"cannot mix (EUR and CHF|CHF and EUR)"):
        operation(Money(100, "EUR"), Money(100, "CHF"))  # type: ignore[operator]


@pytest.mark.parametrize("amount", [10.0, 0.5, Decimal("10"), "10", True, None])
def test_money_holds_only_an_int(amount: object) -> None:
    with pytest.raises(TypeError):
        Money(amount, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [10.0, 0.5, True, "10", Decimal("10"), None])
def test_require_minor_takes_only_an_int(value: object) -> None:
    with pytest.raises(InvalidRequest) as err:
        require_minor(value, param="amount_total")
    assert (err.value.code, err.value.param) == ("invalid_amount", "amount_total")


def test_require_minor_passes_ints_through() -> None:
    assert require_minor(0) == 0
    assert require_minor(-5) == -5
    assert require_minor(10**15) == 10**15


def test_money_requires_a_known_currency() -> None:
    with pytest.raises(InvalidRequest):
        Money(100, "EURO")


def test_money_is_immutable_and_hashable() -> None:
    m = Money(100, "EUR")
    with pytest.raises(AttributeError):
        m.amount_minor = 5  # type: ignore[misc]
    assert {m, Money(100, "EUR")} == {m}
    assert m != Money(100, "CHF")
