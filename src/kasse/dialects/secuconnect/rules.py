"""secuconnect Sofort (seed 000): EUR, captured with the authorization (even with auto_capture false), the
Smart Transaction pending after the customer's return and ok "when the money settles". The seed names
no delays: Kasse takes one day for the settlement and one day for the customer to pay; refunds (child
transactions) are booked at once. Countries are not checked beyond Sofort's own (the seed names none)."""

from __future__ import annotations

from kasse.domain.models import Method
from kasse.domain.rules import DAY_S, SOFORT_COUNTRIES, ProviderRules

__all__ = ["RULES"]

RULES = ProviderRules(
    countries={Method.SOFORT: SOFORT_COUNTRIES},
    currencies={Method.SOFORT: frozenset({"EUR"})},
    action_window_s=DAY_S,
    settlement_delay_s={Method.SOFORT: DAY_S},
)
