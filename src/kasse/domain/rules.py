"""Provider rules as data. The engine reads a payment's rules by its origin dialect; dialects add
their own entries (from the seeds) in later issues without touching engine code."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kasse.domain.models import Method
from kasse.domain.states import PaymentTrigger

__all__ = ["KLARNA_COUNTRY_CURRENCY", "RULES", "ProviderRules", "add_business_days", "rules_for", "sampled_failure"]

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
    name: str
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


_ALL_KLARNA = (
    Method.KLARNA_PAY_NOW,
    Method.KLARNA_PAY_LATER,
    Method.KLARNA_SLICE_IT,
    Method.KLARNA_DIRECT_DEBIT,
)

NATIVE = ProviderRules(
    name="native",
    countries={Method.SOFORT: SOFORT_COUNTRIES, **dict.fromkeys(_ALL_KLARNA, _KLARNA)},
    currencies={Method.SOFORT: frozenset({"EUR", "CHF"}), **dict.fromkeys(_ALL_KLARNA, _KLARNA_CURRENCIES)},
    # Sofort: the bank transfer is credited typically two business days later; Klarna pays the
    # merchant on its own schedule, simulated as one day.
    settlement_delay_s={Method.SOFORT: 2 * DAY_S, **dict.fromkeys(_ALL_KLARNA, DAY_S)},
    country_currency=KLARNA_COUNTRY_CURRENCY,
)

# Stripe "Sofort payments with Sources" (seed 001): EUR only, at least 1.00 EUR, six countries; a pending
# source is canceled after 1 hour, a chargeable one unused for 6 hours is canceled and the money given
# back; a charge succeeds typically 2 business days later and fails at the 14-day cut-off; refunds
# within 180 days.
STRIPE = ProviderRules(
    name="stripe",
    # Stripe also had Klarna Sources; the dialect offers only Sofort, the table stays total (same as native).
    countries={**NATIVE.countries, Method.SOFORT: frozenset({"AT", "BE", "DE", "IT", "NL", "ES"})},
    currencies={**NATIVE.currencies, Method.SOFORT: frozenset({"EUR"})},
    min_amount_minor=100,
    action_window_s=3_600,
    unused_authorization_s=6 * 3_600,
    unused_authorization_trigger=PaymentTrigger.CANCEL,
    refund_window_s=180 * DAY_S,
    manual_capture_methods=frozenset({Method.SOFORT}),
    settlement_business_days=2,
    settlement_cutoff_s=14 * DAY_S,
    sampled_failures=True,
)

# MultiSafepay Sofort (seed 002): AT BE DE IT ES CH PL (else error 1024), EUR only, at least 0.10 EUR,
# expired after 1 day; under 100 EUR completed at once, 100 EUR and more uncleared and completed 24 hours
# later; a refund is reserved, then completed (the seed gives no delay: Kasse takes one hour).
MULTISAFEPAY = ProviderRules(
    name="multisafepay",
    countries={Method.SOFORT: frozenset({"AT", "BE", "CH", "DE", "ES", "IT", "PL"})},
    currencies={Method.SOFORT: frozenset({"EUR"})},
    min_amount_minor=10,
    action_window_s=DAY_S,
    settlement_delay_s={Method.SOFORT: DAY_S},
    settle_at_once_below_minor=10_000,
    refund_delay_s=3_600,
)

# PAYONE (seed 003, shared/reference/clients.md §4): Klarna (clearingtype=fnc) in Klarna's countries, and
# Sofort (clearingtype=sb) with bankcountry DE AT CH NL PL BE; amounts up to 19 999 999 99 minor units.
# A Klarna reservation is good for 28 days (Klarna's default authorization lifetime); a Sofort redirect
# that the customer never finishes expires after a day; captured money is "paid" a day (Klarna) or two
# (Sofort) later.
PAYONE = ProviderRules(
    name="payone",
    countries={**NATIVE.countries, Method.SOFORT: frozenset({"DE", "AT", "CH", "NL", "PL", "BE"})},
    currencies=NATIVE.currencies,
    max_amount_minor=1_999_999_999,
    action_window_s=DAY_S,
    unused_authorization_s=28 * DAY_S,
    settlement_delay_s={Method.SOFORT: 2 * DAY_S, **dict.fromkeys(_ALL_KLARNA, DAY_S)},
    country_currency=KLARNA_COUNTRY_CURRENCY,
)

RULES: dict[str, ProviderRules] = {
    "native": NATIVE, "stripe": STRIPE, "multisafepay": MULTISAFEPAY, "payone": PAYONE,
}  # fmt: skip


def rules_for(origin: str) -> ProviderRules:
    return RULES[origin]
