"""Clocks. The only module allowed to read the system time (STYLE.md rule 2).

Every merchant has its own clock: live (wall time plus an offset) or frozen at an instant. Object
timestamps come from the merchant's clock; signatures on outgoing HTTP use the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["MerchantClock", "WallClock", "system_wall_clock", "utc"]

WallClock = Callable[[], datetime]


def system_wall_clock() -> datetime:
    return datetime.now(UTC)


Pause = Callable[[float], None]


def real_pause(seconds: float) -> None:
    """Wait on real time (a retry's back-off, a short poll): the engine never sleeps but through this,
    handed to it like the wall clock (``Kasse(pause=...)``)."""
    time.sleep(seconds)


def monotonic_s() -> float:
    """Monotonic seconds, for measuring latencies (never for object timestamps)."""
    return time.perf_counter()


def utc(value: datetime) -> datetime:
    """Normalise to an aware UTC datetime (SQLite hands back naive values)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class MerchantClock:
    """A merchant's clock setting: an offset from wall time, or a frozen instant."""

    offset_us: int = 0
    frozen_at: datetime | None = None

    def now(self, wall: datetime) -> datetime:
        if self.frozen_at is not None:
            return utc(self.frozen_at)
        return wall + timedelta(microseconds=self.offset_us)

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    def advanced(self, seconds: float, wall: datetime) -> MerchantClock:
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        delta = timedelta(seconds=seconds)
        if self.frozen_at is not None:
            return MerchantClock(self.offset_us, utc(self.frozen_at) + delta)
        return MerchantClock(self.offset_us + int(delta / timedelta(microseconds=1)), None)

    def moved_to(self, target: datetime, wall: datetime) -> MerchantClock:
        """The same mode, showing ``target`` now."""
        if self.frozen_at is not None:
            return MerchantClock(self.offset_us, target)
        return MerchantClock(int((target - wall) / timedelta(microseconds=1)), None)

    def freeze(self, wall: datetime) -> MerchantClock:
        return MerchantClock(self.offset_us, self.now(wall))

    def resume(self, wall: datetime) -> MerchantClock:
        """Live again, continuing from the frozen instant (no jump back to wall time)."""
        if self.frozen_at is None:
            return self
        return MerchantClock(int((utc(self.frozen_at) - wall) / timedelta(microseconds=1)), None)
