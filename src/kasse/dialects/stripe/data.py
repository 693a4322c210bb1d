"""What a Stripe source keeps beyond the engine's payment (``Payment.provider_data``), typed.

Stored as the same JSON object as before this record existed, so old rows load unchanged; unknown keys
are ignored."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kasse.domain.models import Payment

__all__ = ["StripeChargeData", "StripeSourceData"]


@dataclass(frozen=True, slots=True)
class StripeChargeData:
    """What the shop said of the charge made from the source (a Sofort source is charged once)."""

    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    statement_descriptor: str | None = None  # the charge's own (shown on the charge; no other effect)
    statement_descriptor_suffix: str | None = None
    receipt_email: str | None = None  # shown; Kasse sends no e-mail

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StripeChargeData:
        metadata = data.get("metadata")
        return cls(
            _text(data.get("description")),
            dict(metadata) if isinstance(metadata, dict) else {},
            _text(data.get("statement_descriptor")),
            _text(data.get("statement_descriptor_suffix")),
            _text(data.get("receipt_email")),
        )

    def as_dict(self) -> dict[str, Any]:
        data = {"description": self.description, "metadata": dict(self.metadata)}
        for name in ("statement_descriptor", "statement_descriptor_suffix", "receipt_email"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


@dataclass(frozen=True, slots=True)
class StripeSourceData:
    client_secret: str = ""
    preferred_language: str | None = None  # sofort[preferred_language]
    statement_descriptor: str | None = None
    charge: StripeChargeData | None = None  # once charged

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StripeSourceData:
        charge = data.get("charge")
        return cls(
            client_secret=_text(data.get("client_secret")) or "",
            preferred_language=_text(data.get("preferred_language")),
            statement_descriptor=_text(data.get("statement_descriptor")),
            charge=StripeChargeData.from_dict(charge) if isinstance(charge, dict) else None,
        )

    @classmethod
    def of(cls, payment: Payment) -> StripeSourceData:
        return cls.from_dict(payment.provider_data)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "client_secret": self.client_secret, "preferred_language": self.preferred_language,
            "statement_descriptor": self.statement_descriptor,
        }  # fmt: skip
        if self.charge is not None:
            data["charge"] = self.charge.as_dict()
        return data

    def with_charge(self, charge: StripeChargeData) -> StripeSourceData:
        return replace(self, charge=charge)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
