"""What one attempt to deliver came to: an answer (status, latency, the first characters of its body) or
a failure before any answer (refused target, connection error, timeout, the fault switch)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Answered", "Failed", "Outcome"]


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: str
    status: int | None
    error: str | None
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error is None


@dataclass(frozen=True, slots=True)
class Answered(Outcome):
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class Failed(Outcome):
    pass
