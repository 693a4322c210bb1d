"""PAYONE (seed 003, shared/reference/clients.md §4): Klarna (clearingtype=fnc) in Klarna's countries, and
Sofort (clearingtype=sb) with bankcountry DE AT CH NL PL BE; amounts up to 19 999 999 99 minor units.
A Klarna reservation is good for 28 days (Klarna's default authorization lifetime); a Sofort redirect
that the customer never finishes expires after a day; captured money is "paid" a day (Klarna) or two
(Sofort) later."""

from __future__ import annotations

from kasse.domain.models import Method
from kasse.domain.rules import ALL_KLARNA, DAY_S, EVERY_COUNTRY, EVERY_CURRENCY, KLARNA_COUNTRY_CURRENCY, ProviderRules

__all__ = ["RULES"]

RULES = ProviderRules(
    countries={**EVERY_COUNTRY, Method.SOFORT: frozenset({"DE", "AT", "CH", "NL", "PL", "BE"})},
    currencies=EVERY_CURRENCY,
    max_amount_minor=1_999_999_999,
    action_window_s=DAY_S,
    unused_authorization_s=28 * DAY_S,
    settlement_delay_s={Method.SOFORT: 2 * DAY_S, **dict.fromkeys(ALL_KLARNA, DAY_S)},
    country_currency=KLARNA_COUNTRY_CURRENCY,
)
