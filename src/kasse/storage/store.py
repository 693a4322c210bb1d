"""The repository: every query a transaction needs, each filtered by ``merchant_id``.

Two lookups are global by nature and say so: a credential (it is what identifies the merchant) and a
hosted-page token (unguessable, it is what identifies the payment). The queries live in one module per
concern; ``Store`` puts them together over one connection.
"""

from __future__ import annotations

from kasse.storage._base import Page
from kasse.storage._dashboard import DashboardQueries, PaymentFilter
from kasse.storage._dialects import DialectQueries
from kasse.storage._external import ExternalId, ExternalIdQueries, ExternalIdTaken
from kasse.storage._klarna import KlarnaQueries
from kasse.storage._ledger import LedgerQueries
from kasse.storage._payments import PaymentQueries
from kasse.storage._payone import PayoneQueries, PayoneSession
from kasse.storage._records import RecordQueries
from kasse.storage._secuconnect import SecuconnectQueries, SecuconnectToken
from kasse.storage._stripe import StripeQueries
from kasse.storage._webhooks import WebhookQueries

__all__ = [
    "ExternalId", "ExternalIdTaken", "Page", "PaymentFilter", "PayoneSession", "SecuconnectToken", "Store",
]  # fmt: skip


class Store(
    DialectQueries, ExternalIdQueries, PaymentQueries, LedgerQueries, RecordQueries, WebhookQueries,
    SecuconnectQueries, KlarnaQueries, PayoneQueries, StripeQueries, DashboardQueries,
):  # fmt: skip
    """All queries over one connection (one transaction)."""
