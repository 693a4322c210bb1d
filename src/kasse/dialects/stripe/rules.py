"""Stripe "Sofort payments with Sources" (seed 001): EUR only, at least 1.00 EUR, six countries; a pending
source is canceled after 1 hour, a chargeable one unused for 6 hours is canceled and the money given
back; a charge succeeds typically 2 business days later and fails at the 14-day cut-off; about 0.2% of
charges fail; refunds within 180 days. Stated once: the wire schemas check these same values."""

from __future__ import annotations

from kasse.domain.models import Method
from kasse.domain.rules import DAY_S, EVERY_COUNTRY, EVERY_CURRENCY, ProviderRules
from kasse.domain.states import PaymentTrigger

__all__ = ["RULES"]

RULES = ProviderRules(
    # Stripe also had Klarna Sources; the dialect offers only Sofort, the table stays total.
    countries={**EVERY_COUNTRY, Method.SOFORT: frozenset({"AT", "BE", "DE", "IT", "NL", "ES"})},
    currencies={**EVERY_CURRENCY, Method.SOFORT: frozenset({"EUR"})},
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
