"""Where the hosted page sends a native-API customer back to: the shop's URL plus ``payment_id``, so the
shop can look the payment up without keeping it in a session (as Stripe appends ``payment_intent``).
The shop must still read the payment's status from the API: a query string proves nothing."""

from __future__ import annotations

from kasse.domain.models import Payment
from kasse.domain.urls import with_query_param

__all__ = ["native_return_url"]


def native_return_url(payment: Payment, outcome: str) -> str | None:
    url = (payment.cancel_url or payment.return_url) if outcome == "canceled" else payment.return_url
    return None if url is None else with_query_param(url, "payment_id", payment.id)
