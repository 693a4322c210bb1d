"""Where the hosted page sends a native-API customer back to: the shop's URL plus ``payment_id``, so the
shop can look the payment up without keeping it in a session (as Stripe appends ``payment_intent``).
The shop must still read the payment's status from the API: a query string proves nothing."""

from __future__ import annotations

from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from kasse.dialects import register_return_url
from kasse.domain.models import Payment

__all__ = ["native_return_url", "register", "with_query_param"]


def native_return_url(payment: Payment, outcome: str) -> str | None:
    url = (payment.cancel_url or payment.return_url) if outcome == "canceled" else payment.return_url
    return None if url is None else with_query_param(url, "payment_id", payment.id)


def with_query_param(url: str, name: str, value: str) -> str:
    """Set ``name`` in the query, keeping every other parameter byte for byte (re-encoding the whole
    query could break a shop that signs its own return URLs) and the fragment."""
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if p and unquote_plus(p.split("=", 1)[0]) != name]
    kept.append(f"{quote(name, safe='')}={quote(value, safe='')}")
    return urlunsplit(parts._replace(query="&".join(kept)))


def register() -> None:
    """Called by the hosted pages when they are imported; registering twice is harmless."""
    register_return_url("native", native_return_url)
