"""The sandbox fault switch applied by the delivery worker (``POST /_sandbox/faults``)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from kasse.domain.webhooks import Delivery, DeliverySettings, Faults

__all__ = ["FaultDice", "Profile"]


class FaultDice:
    """Draws the faults for one pass of a worker; a ``seed`` makes a run repeatable."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.random = random.Random(faults.seed)  # not for security: choosing which deliveries misbehave

    def _roll(self, share: float) -> bool:
        return share > 0 and self.random.random() < share

    def order(self, batch: list[Delivery]) -> list[Delivery]:
        return list(reversed(batch)) if len(batch) > 1 and self._roll(self.faults.reorder) else batch

    def hold_back(self, delivery: Delivery) -> bool:
        """Only before the first attempt and only once: its due time has not been moved yet."""
        first = delivery.attempts == 0 and delivery.next_attempt_at is not None
        untouched = first and delivery.next_attempt_at <= delivery.created_at  # type: ignore[operator]
        return bool(self.faults.delay_s) and untouched and self._roll(self.faults.delay)

    def drop(self) -> bool:
        return self._roll(self.faults.drop)

    def duplicate(self) -> bool:
        return self._roll(self.faults.duplicate)


@dataclass(frozen=True, slots=True)
class Profile:
    """A merchant's delivery settings and sandbox faults, read once per pass."""

    settings: DeliverySettings
    faults: Faults
    dice: FaultDice

    @classmethod
    def of(cls, settings: dict[str, Any]) -> Profile:
        faults = Faults.from_dict(settings.get("faults"))
        return cls(DeliverySettings.from_dict(settings.get("webhooks")), faults, FaultDice(faults))
