"""Where the bank page sends a MultiSafepay customer back to: ``redirect_url`` after approval (also when
the payment is still uncleared), ``cancel_url`` after a cancel or a decline, each with ``transactionid``
(the order id) added, as MultiSafepay does. The shop must still read the order's status from the API."""

from __future__ import annotations

from kasse.domain.models import Payment
from kasse.domain.urls import with_query_param

__all__ = ["msp_return_url"]


def msp_return_url(payment: Payment, outcome: str) -> str | None:
    url = payment.cancel_url if outcome in ("canceled", "failed", "expired") else payment.return_url
    url = url or payment.return_url
    return None if url is None else with_query_param(url, "transactionid", payment.reference or "")
