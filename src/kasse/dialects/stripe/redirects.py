"""Where the hosted bank page sends a Stripe customer: the shop's ``redirect[return_url]`` with
``source``, ``livemode`` and ``client_secret`` added (Stripe: "Don't use the above parameter names
yourself, as these would be overridden"); the shop's own parameters are kept byte for byte. Approve,
decline and cancel all return there: the shop reads the source's status."""

from __future__ import annotations

from kasse.dialects.stripe.data import StripeSourceData
from kasse.dialects.stripe.translate import stripe_id
from kasse.domain.models import Payment
from kasse.domain.urls import with_query_param

__all__ = ["stripe_return_url"]


def stripe_return_url(payment: Payment, outcome: str) -> str | None:
    url = payment.return_url
    if url is None:
        return None
    url = with_query_param(url, "source", stripe_id(payment.id))
    url = with_query_param(url, "livemode", "false")
    return with_query_param(url, "client_secret", StripeSourceData.of(payment).client_secret)
