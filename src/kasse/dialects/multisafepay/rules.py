"""MultiSafepay Sofort (seed 002): AT BE DE IT ES CH PL (else error 1024), EUR only, at least 0.10 EUR,
expired after 1 day; under 100 EUR completed at once, 100 EUR and more uncleared and completed 24 hours
later; a refund is reserved, then completed (the seed gives no delay: Kasse takes one hour)."""

from __future__ import annotations

from kasse.domain.models import Method
from kasse.domain.rules import DAY_S, ProviderRules

__all__ = ["RULES"]

RULES = ProviderRules(
    countries={Method.SOFORT: frozenset({"AT", "BE", "CH", "DE", "ES", "IT", "PL"})},
    currencies={Method.SOFORT: frozenset({"EUR"})},
    min_amount_minor=10,
    action_window_s=DAY_S,
    settlement_delay_s={Method.SOFORT: DAY_S},
    settle_at_once_below_minor=10_000,
    refund_delay_s=3_600,
)
