"""Background workers that run inside ``kasse serve`` (or alone as ``kasse worker``): the scheduler
fires timers as merchants' live clocks reach them; the delivery worker drains the outbox."""

from __future__ import annotations

import logging
import threading

from kasse.delivery.worker import Deliverer
from kasse.engine import serial, timers
from kasse.engine.unit import Kasse

__all__ = ["DeliveryWorker", "Loop", "Scheduler"]

log = logging.getLogger(__name__)


class Loop:
    """Runs ``run_once`` every ``interval_s`` on a daemon thread until stopped."""

    name = "kasse-loop"

    def __init__(self, *, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        raise NotImplementedError

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("%s pass failed", self.name)
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


class Scheduler(Loop):
    name = "kasse-scheduler"

    def __init__(self, kasse: Kasse, *, interval_s: float = 0.5) -> None:
        super().__init__(interval_s=interval_s)
        self.kasse = kasse

    def run_once(self) -> int:
        """Fire every timer due on its merchant's clock now; returns how many fired."""
        with self.kasse.read() as store:
            merchant_ids = store.merchants_with_timers()
        fired = 0
        for merchant_id in merchant_ids:
            try:
                # A read first: most passes find nothing due, and need not take the write lock.
                due = timers.next_timer_due(self.kasse, merchant_id=merchant_id)
                if due is None or due > self.kasse.merchant_now(merchant_id=merchant_id):
                    continue
                with serial.clock_held(self.kasse, merchant_id=merchant_id, shared=True) as held:
                    if held:  # else a clock advance runs, and fires these each at its due time
                        fired += len(timers.fire_due(self.kasse, merchant_id=merchant_id, at_due_time=False))
            except Exception:  # one merchant's failure must not stop the others; logged once
                log.exception("timers of merchant %s failed", merchant_id)
        return fired


class DeliveryWorker(Loop):
    name = "kasse-delivery"

    def __init__(self, deliverer: Deliverer, *, interval_s: float = 0.5) -> None:
        super().__init__(interval_s=interval_s)
        self.deliverer = deliverer

    def run_once(self) -> int:
        return self.deliverer.run_once()
