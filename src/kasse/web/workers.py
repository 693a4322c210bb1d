"""Background workers that run inside ``kasse serve`` (or alone as ``kasse worker``).

The scheduler fires timers as merchants' live clocks reach them. The outbox delivery worker joins it
with the notifications issue.
"""

from __future__ import annotations

import logging
import threading

from kasse.engine import timers
from kasse.engine.unit import Kasse

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, kasse: Kasse, *, interval_s: float = 0.5) -> None:
        self.kasse = kasse
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Fire every timer due on its merchant's clock now; returns how many fired."""
        with self.kasse.read() as store:
            merchant_ids = store.merchants_with_timers()
        fired = 0
        for merchant_id in merchant_ids:
            try:
                fired += len(timers.fire_due(self.kasse, merchant_id=merchant_id, at_due_time=False))
            except Exception:  # one merchant's failure must not stop the others; logged once
                log.exception("timers of merchant %s failed", merchant_id)
        return fired

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("scheduler pass failed")
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="kasse-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
