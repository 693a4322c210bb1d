"""The native API's rules: every method Kasse's sandbox banks offer, in every country they serve."""

from __future__ import annotations

from kasse.domain.models import Method
from kasse.domain.rules import ALL_KLARNA, DAY_S, EVERY_COUNTRY, EVERY_CURRENCY, KLARNA_COUNTRY_CURRENCY, ProviderRules

__all__ = ["RULES"]

RULES = ProviderRules(
    countries=EVERY_COUNTRY,
    currencies=EVERY_CURRENCY,
    # Sofort: the bank transfer is credited typically two business days later; Klarna pays the
    # merchant on its own schedule, simulated as one day.
    settlement_delay_s={Method.SOFORT: 2 * DAY_S, **dict.fromkeys(ALL_KLARNA, DAY_S)},
    country_currency=KLARNA_COUNTRY_CURRENCY,
)
