"""Provider rules as data: what a provider allows and how its money moves (countries, currencies, limits,
expiry, settlement, refund windows). Each dialect states its own once, in its ``rules.py`` (from its
seed), and brings them in ``Dialect.rules``; the engine reads a payment's by its origin
(``Tx.rules_of``) and never names a provider."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kasse.domain.models import Method
from kasse.domain.states import PaymentTrigger

__all__ = [
    "ALL_KLARNA", "DAY_S", "EVERY_COUNTRY", "EVERY_CURRENCY", "KLARNA_COUNTRY_CURRENCY", "SOFORT_COUNTRIES",
    "ProviderRules", "add_business_days", "sampled_failure",
]  # fmt: skip

DAY_S = 86_400

SOFORT_COUNTRIES = frozenset({"AT", "BE", "CH", "DE", "ES", "IT", "NL", "PL"})

# Klarna sells in the currency of the purchase country (Klarna "supported countries and currencies").
KLARNA_COUNTRY_CURRENCY: dict[str, str] = {
    "AT": "EUR", "BE": "EUR", "DE": "EUR", "ES": "EUR", "FI": "EUR", "FR": "EUR", "GR": "EUR",
    "IE": "EUR", "IT": "EUR", "NL": "EUR", "PT": "EUR", "CH": "CHF", "CZ": "CZK", "DK": "DKK",
    "GB": "GBP", "NO": "NOK", "PL": "PLN", "SE": "SEK", "US": "USD", "CA": "CAD", "AU": "AUD",
    "NZ": "NZD",
}  # fmt: skip

_KLARNA = frozenset(KLARNA_COUNTRY_CURRENCY)
_KLARNA_CURRENCIES = frozenset(KLARNA_COUNTRY_CURRENCY.values())


@dataclass(frozen=True, slots=True)
class ProviderRules:
    countries: dict[Method, frozenset[str]]
    currencies: dict[Method, frozenset[str]]
    min_amount_minor: int = 1
    max_amount_minor: int = 99_999_999
    action_window_s: int = DAY_S  # requires_action → expired
    unused_authorization_s: int = 7 * DAY_S  # authorized and never captured
    unused_authorization_trigger: PaymentTrigger = PaymentTrigger.EXPIRE
    settlement_delay_s: dict[Method, int] = field(default_factory=dict)
    refund_delay_s: int = 0
    refund_window_s: int | None = None
    country_currency: dict[str, str] = field(default_factory=dict)  # Klarna: currency follows country
    # Methods whose authorization is captured later by the merchant (Stripe: a chargeable source is
    # charged in a second call); Sofort is otherwise captured with the authorization.
    manual_capture_methods: frozenset[Method] = frozenset()
    # When set, settlement is this many business days (Monday to Friday) after the capture, instead of
    # ``settlement_delay_s``.
    settlement_business_days: int | None = None
    # When set, money that never arrives fails the capture at this cut-off (Stripe Sofort: 14 days);
    # otherwise a failing capture fails at the usual settlement time.
    settlement_cutoff_s: int | None = None
    scenario_approval_delay_s: int = 3  # Approval.APPROVE_SHORTLY: "within seconds"
    # When true, the merchant's sandbox setting ``failure_rates[<origin>]`` (0..1, default 0) makes that
    # share of captures fail at the cut-off, chosen deterministically from the payment id (Stripe: "about
    # 0.2% of Sofort charges fail").
    sampled_failures: bool = False
    # Captures below this amount settle with the capture itself, in the same unit of work (MultiSafepay:
    # Sofort under 100 EUR is completed at once). None: every capture waits for its settlement.
    settle_at_once_below_minor: int | None = None

    def settlement_delay(self, method: Method) -> int:
        return self.settlement_delay_s.get(method, 2 * DAY_S)

    def settlement_delay_at(self, method: Method, now: datetime) -> int:
        """Seconds from ``now`` until the money of a capture made at ``now`` arrives."""
        if self.settlement_business_days is None:
            return self.settlement_delay(method)
        return int((add_business_days(now, self.settlement_business_days) - now).total_seconds())


def sampled_failure(payment_id: str, rate: float) -> bool:
    """Whether a payment falls in the failing share ``rate``: a pure function of its id, so a run can be
    repeated and a test can find out in advance."""
    if rate <= 0:
        return False
    digest = hashlib.sha256(payment_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def add_business_days(start: datetime, days: int) -> datetime:
    """The same time of day ``days`` business days later; a start on a weekend counts from Monday 00:00
    (a transfer made on Saturday is booked on Monday)."""
    current = start
    if current.weekday() >= 5:
        current = (current + timedelta(days=7 - current.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


ALL_KLARNA = frozenset(
    {Method.KLARNA_PAY_NOW, Method.KLARNA_PAY_LATER, Method.KLARNA_SLICE_IT, Method.KLARNA_DIRECT_DEBIT}
)

# What Kasse's sandbox banks accept for every method: a dialect's rules start from these and narrow them
# (its ``rules.py``, handed to the engine through ``Dialect.rules``).
EVERY_COUNTRY: dict[Method, frozenset[str]] = {Method.SOFORT: SOFORT_COUNTRIES, **dict.fromkeys(ALL_KLARNA, _KLARNA)}
EVERY_CURRENCY: dict[Method, frozenset[str]] = {
    Method.SOFORT: frozenset({"EUR", "CHF"}),
    **dict.fromkeys(ALL_KLARNA, _KLARNA_CURRENCIES),
}
