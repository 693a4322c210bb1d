"""Money: integer minor units plus an ISO 4217 code. Never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from kasse.domain.errors import ErrorCode, InvalidRequest

__all__ = [
    "CURRENCY_EXPONENTS", "Money", "exponent", "format_money", "major_to_minor", "minor_to_major", "require_minor",
]  # fmt: skip

# ISO 4217 active codes with their minor-unit exponent (the ISO table; X-codes without a minor unit
# are omitted because no payment is made in them).
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "AED",
            "AFN",
            "ALL",
            "AMD",
            "ANG",
            "AOA",
            "ARS",
            "AUD",
            "AWG",
            "AZN",
            "BAM",
            "BBD",
            "BDT",
            "BGN",
            "BMD",
            "BND",
            "BOB",
            "BRL",
            "BSD",
            "BTN",
            "BWP",
            "BYN",
            "BZD",
            "CAD",
            "CDF",
            "CHF",
            "CNY",
            "COP",
            "CRC",
            "CUP",
            "CVE",
            "CZK",
            "DKK",
            "DOP",
            "DZD",
            "EGP",
            "ERN",
            "ETB",
            "EUR",
            "FJD",
            "FKP",
            "GBP",
            "GEL",
            "GHS",
            "GIP",
            "GMD",
            "GTQ",
            "GYD",
            "HKD",
            "HNL",
            "HTG",
            "HUF",
            "IDR",
            "ILS",
            "INR",
            "IRR",
            "JMD",
            "KES",
            "KGS",
            "KHR",
            "KPW",
            "KYD",
            "KZT",
            "LAK",
            "LBP",
            "LKR",
            "LRD",
            "LSL",
            "MAD",
            "MDL",
            "MGA",
            "MKD",
            "MMK",
            "MNT",
            "MOP",
            "MRU",
            "MUR",
            "MVR",
            "MWK",
            "MXN",
            "MYR",
            "MZN",
            "NAD",
            "NGN",
            "NIO",
            "NOK",
            "NPR",
            "NZD",
            "PAB",
            "PEN",
            "PGK",
            "PHP",
            "PKR",
            "PLN",
            "QAR",
            "RON",
            "RSD",
            "RUB",
            "SAR",
            "SBD",
            "SCR",
            "SDG",
            "SEK",
            "SGD",
            "SHP",
            "SLE",
            "SOS",
            "SRD",
            "SSP",
            "STN",
            "SVC",
            "SYP",
            "SZL",
            "THB",
            "TJS",
            "TMT",
            "TOP",
            "TRY",
            "TTD",
            "TWD",
            "TZS",
            "UAH",
            "USD",
            "UYU",
            "UZS",
            "VES",
            "WST",
            "XCD",
            "YER",
            "ZAR",
            "ZMW",
            "ZWG",
        ],
        2,
    ),
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def exponent(currency: str, *, param: str = "currency") -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise InvalidRequest(
            ErrorCode.INVALID_CURRENCY, f"Unknown currency '{currency}': expected an ISO 4217 code", param=param
        ) from None


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise TypeError("amount_minor must be an int")
        exponent(self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount_minor <= other.amount_minor

    def major(self) -> Decimal:
        return minor_to_major(self.amount_minor, self.currency)

    def __str__(self) -> str:
        return f"{self.major()} {self.currency}"


def require_minor(value: object, *, param: str = "amount") -> int:
    """An amount in minor units as the engine takes it: an ``int`` (not a bool, never a float).

    The engine checks it itself rather than trusting every dialect's parser: a float that slipped through
    would be stored as a fraction of a cent (SQLite keeps REAL in an integer column)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(
            ErrorCode.INVALID_AMOUNT, f"Amount must be a whole number of minor units, not {value!r}", param=param
        )
    return value


def minor_to_major(amount_minor: int, currency: str) -> Decimal:
    exp = exponent(currency)
    return Decimal(amount_minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def format_money(amount_minor: int, currency: str) -> str:
    """``15000, "EUR"`` → ``150.00 EUR``: how people read an amount (the CLI, the dashboard)."""
    exp = CURRENCY_EXPONENTS.get(currency, 2)
    value = Decimal(amount_minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))
    return f"{value} {currency}"


def major_to_minor(value: str | Decimal | int, currency: str, *, param: str = "amount") -> int:
    """Convert a major-unit amount exactly; an amount finer than the currency allows is rejected.

    A float is refused outright: it has already lost exactness (0.1 is not one tenth), so a dialect must
    parse wire amounts as strings or ``Decimal`` (``json.loads(..., parse_float=Decimal)``)."""
    if isinstance(value, float | bool):
        raise TypeError(f"amounts must be str, Decimal or int, not {type(value).__name__}")
    exp = exponent(currency)
    try:
        dec = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidRequest(ErrorCode.INVALID_AMOUNT, f"Invalid amount '{value}'", param=param) from None
    if not dec.is_finite():
        raise InvalidRequest(ErrorCode.INVALID_AMOUNT, f"Invalid amount '{value}'", param=param)
    scaled = dec.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise InvalidRequest(
            ErrorCode.INVALID_AMOUNT,
            f"Amount {value} has more than {exp} decimal places for {currency}",
            param=param,
        )
    return int(scaled)
