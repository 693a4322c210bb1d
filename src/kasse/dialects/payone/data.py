"""What a PAYONE transaction keeps beyond the engine's payment (``Payment.provider_data``), typed: its
``txid`` and ``userid``, how it was cleared, the shop's return URLs, and the ``sequencenumber`` reached
(each capture, debit or refund takes the next one)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from kasse.domain.models import Payment

__all__ = ["PayoneData"]


@dataclass(frozen=True, slots=True)
class PayoneData:
    txid: str = ""
    userid: str = ""
    request: str = "authorization"  # authorization | preauthorization
    clearingtype: str = "sb"  # sb (Sofort) | fnc (Klarna)
    financingtype: str | None = None
    amount_minor: int = 0  # the order amount as PAYONE shows it (the hold may add the over-capture room)
    over_capture: bool = False
    sequence: int = 0  # the last sequencenumber used (the (pre)authorization is 0)
    successurl: str | None = None
    errorurl: str | None = None
    backurl: str | None = None
    age_failure_url: str | None = None
    param: str | None = None
    customerid: str | None = None
    workorderid: str | None = None
    portalid: str | None = None  # the portal and sub-account it was made through (TxStatus names them)
    aid: str | None = None
    notify_endpoint_id: str | None = None  # the TransactionStatus URL's endpoint, when one is set

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PayoneData:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def of(cls, payment: Payment) -> PayoneData:
        return cls.from_dict(payment.provider_data)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def next_sequence(self) -> PayoneData:
        return replace(self, sequence=self.sequence + 1)
