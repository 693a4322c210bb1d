"""Parts of MultiSafepay's order object (pure): the ``customer`` (``getOrder.json``: every key present,
``phone1``/``phone2``, ``country_name``; what only steers the payment — IP address, user agent,
referrer — is not echoed), masked account numbers, ``costs`` (``Costs.yaml``) and the refunds in
``related_transactions`` (``RelatedTransactions.yaml``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kasse.domain.clock import utc

__all__ = ["COUNTRY_NAMES", "customer_out", "masked", "system_cost", "time_out"]

# English names, as MultiSafepay's ``country_name``: Sofort's countries and the shops' usual neighbours.
COUNTRY_NAMES = {
    "AT": "Austria", "BE": "Belgium", "CH": "Switzerland", "DE": "Germany", "ES": "Spain", "IT": "Italy",
    "PL": "Poland", "NL": "Netherlands", "FR": "France", "LU": "Luxembourg", "GB": "United Kingdom",
    "DK": "Denmark", "CZ": "Czech Republic", "PT": "Portugal", "IE": "Ireland", "SE": "Sweden",
    "FI": "Finland", "NO": "Norway", "US": "United States",
}  # fmt: skip

_CUSTOMER_KEYS = (
    "address1", "address2", "city", "cocnumber", "company_name", "country", "country_name", "email",
    "first_name", "house_number", "last_name", "locale", "phone1", "phone2", "state", "zip_code",
)  # fmt: skip


def time_out(value: datetime | None) -> str | None:
    return None if value is None else utc(value).strftime("%Y-%m-%dT%H:%M:%S")


def customer_out(given: dict[str, Any]) -> dict[str, Any]:
    """The customer as MultiSafepay answers it: the address and contact keys, null where not given;
    ``phone`` becomes ``phone1``. The locale defaults to ``en_US`` as MultiSafepay's does."""
    country = given.get("country")
    values = {
        **{key: given.get(key) for key in _CUSTOMER_KEYS},
        "phone1": given.get("phone1", given.get("phone")),
        "phone2": given.get("phone2"),
        "country_name": COUNTRY_NAMES.get(country) if isinstance(country, str) else None,
        "locale": given.get("locale") or "en_US",
    }
    return {key: values[key] for key in _CUSTOMER_KEYS}


def masked(account: str | None) -> str | None:
    """An IBAN as MultiSafepay shows it in orders and notifications: ``*** 3000`` (its last 4)."""
    if not account:
        return account
    compact = account.replace(" ", "")
    return f"*** {compact[-4:]}"


def system_cost(transaction_id: int, currency: str, created: datetime) -> dict[str, Any]:
    """The transaction fee line MultiSafepay adds once a payment is made; the sandbox charges none."""
    return {
        "transaction_id": transaction_id,
        "amount": 0.0,
        "currency": currency,
        "description": f"0.00 {currency} For SOFORT Banking Transactions",
        "type": "SYSTEM",
        "status": "completed",
        "created": time_out(created),
    }
