"""``POST /_sandbox/clock/advance`` run to its end: one at a time per merchant, idempotent, and answered
within a budget.

The advance runs on a thread of its own, which holds the merchant's clock lock (a second advance waits
for the first, then makes its own move). The request waits for it up to ``advance_sync_s`` seconds
(``KASSE_ADVANCE_SYNC_S``, 30 by default) and answers 200 with the clock; an advance still running then
(a great many attempts at slow receivers) answers ``202 Accepted`` with a status resource,
``GET /_sandbox/clock/advances/{id}``, and runs on to its end.

With an ``Idempotency-Key``, the key is stored in the transaction that moves the clock (so the move
happens once, whatever the client retries) and its answer replaced by the clock when the advance ends;
the same key with the same body replays that answer; with another body it is refused. An advance
that died after its move is finished by the next request with its key, without moving again.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from kasse.delivery import clock
from kasse.delivery.worker import Deliverer
from kasse.domain.errors import Conflict, DomainError, ErrorCode, NotFound
from kasse.engine import serial, timers
from kasse.engine.idempotency import Outcome, keep_response, replay
from kasse.engine.unit import Kasse, Tx

__all__ = ["AdvanceRequest", "Advances", "clock_body"]

SCOPE = "sandbox"
RUN_SCOPE = "clock_advance"
RUNNING = 202


@dataclass(frozen=True, slots=True)
class AdvanceRequest:
    merchant_id: str
    seconds: float
    key: str | None
    fingerprint: str


def clock_body(reading: timers.ClockReading) -> dict[str, Any]:
    def stamp(value: Any) -> str:
        return str(value.isoformat().replace("+00:00", "Z"))

    fired = [
        {
            "timer": f.timer_id,
            "kind": str(f.kind),
            "subject": f.subject_id,
            "due_at": stamp(f.due_at),
            "acted": f.acted,
            "events": list(f.events),
        }
        for f in reading.fired
    ]
    return {
        "object": "clock", "now": stamp(reading.now), "frozen": reading.frozen,
        "offset_seconds": reading.offset_s, "fired": fired,
    }  # fmt: skip


def run_body(run_id: str, run: dict[str, Any]) -> dict[str, Any]:
    return {"object": "clock_advance", "id": run_id, "url": f"/_sandbox/clock/advances/{run_id}", **run}


class Advances:
    """The app's clock advances: a few threads; each request waits for its own up to ``sync_s``. The
    status of an advance that outlived its request is kept (in the idempotency table, scope
    ``clock_advance``, under the advance's id); one answered at once keeps nothing."""

    def __init__(self, deliverer: Deliverer, *, sync_s: float, threads: int = 4) -> None:
        self.deliverer, self.kasse, self.sync_s = deliverer, deliverer.kasse, sync_s
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="kasse-advance")
        self._lock = threading.Lock()
        self._state: dict[str, str] = {}  # run id → "detached" (answered 202) or "done"

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def start(self, request: AdvanceRequest) -> Outcome:
        stored = self._stored(request)
        if stored is not None and stored.status != RUNNING:
            return stored
        run_id = "adv_" + secrets.token_hex(8)
        future = self._pool.submit(self._run, request, run_id)
        try:
            return future.result(timeout=self.sync_s)
        except FutureTimeout:
            with self._lock:
                if self._state.get(run_id) != "done":  # else it ended just now: answered below
                    self._state[run_id] = "detached"
                    _save_run(self.kasse, request.merchant_id, run_id, RUNNING, None, None)
                    return Outcome(RUNNING, run_body(run_id, {"status": "running", "result": None, "error": None}))
            return future.result()
        finally:
            with self._lock:
                if self._state.get(run_id) == "done":
                    del self._state[run_id]

    def status(self, *, merchant_id: str, run_id: str) -> dict[str, Any]:
        with self.kasse.read() as store:
            row = store.get_idempotency(merchant_id=merchant_id, scope=RUN_SCOPE, key=run_id)
        if row is None:
            raise NotFound("clock advance", run_id, param="id")
        return run_body(run_id, json.loads(row["response_body"]))

    def _run(self, request: AdvanceRequest, run_id: str) -> Outcome:
        try:
            outcome = self._advance(request, run_id)
        except DomainError as exc:
            self._finish(request, run_id, 409, None, {"type": exc.kind, "code": exc.code, "message": exc.message})
            raise
        except Exception:
            error = {"type": "api_error", "code": "internal_error", "message": "The advance failed; it has been logged"}
            self._finish(request, run_id, 500, None, error)
            raise
        self._finish(request, run_id, outcome.status, outcome.body, None)
        return outcome

    def _finish(self, request: AdvanceRequest, run_id: str, status: int, body: Any, error: Any) -> None:
        with self._lock:
            detached = self._state.pop(run_id, None) == "detached"
            if not detached:
                self._state[run_id] = "done"  # its request, timing out right now, answers with it
        if detached:
            _save_run(self.kasse, request.merchant_id, run_id, status, body, error)

    def _advance(self, request: AdvanceRequest, run_id: str) -> Outcome:
        merchant_id = request.merchant_id
        with serial.clock_held(self.kasse, merchant_id=merchant_id, wait_s=serial.CLOCK_WAIT_S) as held:
            if not held:
                raise Conflict(
                    ErrorCode.CLOCK_ADVANCE_RUNNING, "Another clock advance of this merchant is still running"
                )
            stored = self._stored(request)  # again: the advance this one waited for may have had its key
            if stored is not None and stored.status != RUNNING:
                return stored
            # A stored running answer is an advance that died after its move: finish it, without a move.
            seconds = 0.0 if stored is not None else request.seconds
            then = None if request.key is None or stored is not None else self._keep(request, RUNNING, {"run": run_id})
            reading, attempts = clock.advance_held(self.deliverer, merchant_id=merchant_id, seconds=seconds, then=then)
            body = {**clock_body(reading), "delivery_attempts": attempts}
            if request.key is not None:
                serial.retrying(lambda: self._replace(request, body))
        return Outcome(200, body)

    def _stored(self, request: AdvanceRequest) -> Outcome | None:
        if request.key is None:
            return None
        with self.kasse.read() as store:
            row = store.get_idempotency(merchant_id=request.merchant_id, scope=SCOPE, key=request.key)
        return None if row is None else replay(row, key=request.key, fingerprint=request.fingerprint)

    def _keep(self, request: AdvanceRequest, status: int, body: Any) -> Callable[[Tx], None]:
        def keep(tx: Tx) -> None:
            assert request.key is not None
            keep_response(tx, scope=SCOPE, key=request.key, fingerprint=request.fingerprint, status=status, body=body)

        return keep

    def _replace(self, request: AdvanceRequest, body: Any) -> None:
        self.kasse.run(request.merchant_id, self._keep(request, 200, body))


def _save_run(kasse: Kasse, merchant_id: str, run_id: str, status: int, result: Any, error: Any) -> None:
    word = {RUNNING: "running", 200: "succeeded"}.get(status, "failed")
    body = {"status": word, "result": result, "error": error}

    def save() -> None:
        kasse.run(merchant_id, keep_response, scope=RUN_SCOPE, key=run_id, fingerprint="", status=status, body=body)

    serial.retrying(save, what="clock advance's status")
