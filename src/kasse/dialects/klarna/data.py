"""What the Klarna dialect keeps on an engine payment (a payment transaction): its Klarna ids and
references, and whether the 7-day grace after its expiry is over (CLOSED)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = ["TRANSACTION_PREFIX", "KlarnaTransactionData"]

TRANSACTION_PREFIX = "krn:payment:eu1:transaction:"


@dataclass(frozen=True, slots=True)
class KlarnaTransactionData:
    transaction_id: str  # krn:payment:eu1:transaction:<uuid>
    reference: str | None = None  # payment_transaction_reference
    request_id: str | None = None  # the payment request whose token was authorized (none: a customer token)
    closed: bool = False
    capture_references: dict[str, str] | None = None  # capture sequence → payment_capture_reference

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KlarnaTransactionData:
        return cls(
            transaction_id=str(data.get("transaction_id", "")),
            reference=data.get("reference") if isinstance(data.get("reference"), str) else None,
            request_id=data.get("request_id") if isinstance(data.get("request_id"), str) else None,
            closed=bool(data.get("closed", False)),
            capture_references=dict(data["capture_references"]) if data.get("capture_references") else None,
        )

    def with_capture_reference(self, sequence: int, reference: str) -> KlarnaTransactionData:
        return replace(self, capture_references={**(self.capture_references or {}), str(sequence): reference})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
