"""Klarna's Payment Authorize API (seed 004): a payment transaction is created authorized by the partner's
authorize call (the customer acted on the payment request before), captured later, partly and several
times. Currencies: Klarna's list (Payment API reference, release 4). Klarna documents no authorization
lifetime for this API; Kasse takes Klarna's usual 28 days (docs/klarna.md). Klarna pays out on its own
schedule, simulated as one day."""

from __future__ import annotations

from kasse.domain.rules import ALL_KLARNA, DAY_S, EVERY_COUNTRY, EVERY_CURRENCY, ProviderRules

__all__ = ["RULES"]

_KLARNA_API_CURRENCIES = frozenset(
    {"AUD", "EUR", "CAD", "CZK", "DKK", "HUF", "MXN", "NZD", "NOK", "PLN", "RON", "SEK", "CHF", "GBP", "USD"}
)

RULES = ProviderRules(
    countries=EVERY_COUNTRY,
    currencies={**EVERY_CURRENCY, **dict.fromkeys(ALL_KLARNA, _KLARNA_API_CURRENCIES)},
    max_amount_minor=2_147_483_647,
    unused_authorization_s=28 * DAY_S,
    settlement_delay_s=dict.fromkeys(ALL_KLARNA, DAY_S),
    manual_capture_methods=frozenset(ALL_KLARNA),
)
