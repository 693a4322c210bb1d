"""Provider rules as data. The engine reads a payment's rules by its origin dialect; dialects add
their own entries (from the seeds) in later issues without touching engine code."""

from __future__ import annotations

from dataclasses import dataclass, field

from kasse.domain.models import Method
from kasse.domain.states import PaymentTrigger

__all__ = ["KLARNA_COUNTRY_CURRENCY", "RULES", "ProviderRules", "rules_for"]

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

    def settlement_delay(self, method: Method) -> int:
        return self.settlement_delay_s.get(method, 2 * DAY_S)


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

RULES: dict[str, ProviderRules] = {"native": NATIVE}


def rules_for(origin: str) -> ProviderRules:
    return RULES[origin]
