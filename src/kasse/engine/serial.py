"""One clock advance of a merchant at a time, and transient database errors retried.

A clock advance is many transactions (the move, then batches of timers and delivery attempts, each at
its own due time). Two of one merchant at once interleaved their firing, and the background loops
acting at the merchant's jumped ``now`` dated what they did at the target. So an advance holds the
merchant's clock lock from before its move until its last attempt is recorded: a second advance waits
for it, then makes its own move; the scheduler and the delivery worker only try the lock, and leave the
merchant for their next pass while an advance holds it or waits for it. They hold it shared (several
workers still share a merchant's outbox), and an advance waits for the passes that hold it, so what they
send is recorded, and dated, before the move.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from kasse.domain.clock import Pause, real_pause
from kasse.domain.errors import Conflict, ErrorCode
from kasse.engine.unit import Kasse

__all__ = ["CLOCK_WAIT_S", "clock_held", "retrying", "transient"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long an advance waits for the one before it (which runs to its end, however long).
CLOCK_WAIT_S = 900.0
RETRIES = 5
# PostgreSQL: deadlock detected, serialization failure, lock not available.
_TRANSIENT_STATES = {"40P01", "40001", "55P03"}


@contextmanager
def clock_held(kasse: Kasse, *, merchant_id: str, wait_s: float = 0.0, shared: bool = False) -> Iterator[bool]:
    """Hold ``merchant_id``'s clock lock for the block (waiting up to ``wait_s``; ``shared`` for a
    background pass, exclusive for an advance); yields whether it is held."""
    with kasse.db.locks.hold(f"kasse:clock:{merchant_id}", wait_s=wait_s, shared=shared) as held:
        yield held


def transient(exc: BaseException) -> bool:
    """A database error that the same transaction, run again, may not meet."""
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) in _TRANSIENT_STATES:
        return True
    return "database is locked" in str(exc.orig)


def retrying(step: Callable[[], T], *, what: str = "clock advance", pause: Pause = real_pause) -> T:
    """Run one transaction's worth of work, again after a transient error (it rolled back), a few
    times; then a 409 ``Conflict`` the client may retry, never an unexpected error."""
    for attempt in range(RETRIES):
        try:
            return step()
        except DBAPIError as exc:
            if not transient(exc):
                raise
            log.warning("%s: transient database error, attempt %d: %s", what, attempt + 1, exc.orig)
            pause(0.01 * 2**attempt)
    raise Conflict(
        ErrorCode.DATABASE_CONFLICT,
        f"The {what} kept meeting concurrent changes; try again (with the same Idempotency-Key)",
    )
