"""The payment request as the Klarna dialect keeps it (a row of ``klarna_payment_requests``), its ids and
tokens, and the merchant's partner account."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from kasse.dialects.klarna.states import RequestState
from kasse.engine.unit import Tx

__all__ = ["DIALECT", "PaymentRequest", "account_of", "request_uuid"]

DIALECT = "klarna"
REQUEST_PREFIX = "krn:payment:eu1:request:"
SESSION_TOKEN_PREFIX = "krn:payment:eu1:klarna-network-session-token:"
PAYMENT_TOKEN_PREFIX = "krn:payment:eu1:payment-token:"
CUSTOMER_TOKEN_PREFIX = "krn:partner:eu1:test:identity:customer-token:"


@dataclass(slots=True)
class PaymentRequest:
    id: str  # the uuid of krn:payment:eu1:request:<uuid>
    merchant_id: str
    state: RequestState
    currency: str
    amount_minor: int | None
    reference: str | None
    account_id: str
    body: dict[str, Any]  # the partner's request in v2 names
    customer: dict[str, Any]
    page_token: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    previous_state: RequestState | None = None
    state_reason: str | None = None
    session_token: str | None = None
    payment_token: str | None = None
    customer_token: str | None = None
    token_expires_at: datetime | None = None
    payment_id: str | None = None
    authorization: str | None = None

    @property
    def krn(self) -> str:
        return REQUEST_PREFIX + self.id

    def as_row(self) -> dict[str, Any]:
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["state"] = self.state.value
        row["previous_state"] = self.previous_state.value if self.previous_state else None
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PaymentRequest:
        values = dict(row)
        values["state"] = RequestState(values["state"])
        values["previous_state"] = RequestState(values["previous_state"]) if values["previous_state"] else None
        return cls(**values)


def request_uuid(krn_or_uuid: str) -> str:
    """The uuid of a payment request id; the bare uuid is accepted too."""
    return krn_or_uuid.removeprefix(REQUEST_PREFIX)


def account_of(tx: Tx) -> str:
    """The merchant's Klarna partner account id (its ``klarna`` credential's public identifier)."""
    for cred in tx.store.credentials_of(merchant_id=tx.merchant_id):
        if cred["kind"] == DIALECT:
            return str(cred["lookup"])
    return ""
