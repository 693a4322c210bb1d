"""Idempotency keys (Brandur's rocket-rides-atomic): scoped per merchant and front door, fingerprinted
by request, stored in the same transaction as the change, the stored response replayed.

Concurrent requests with the same key serialize on the unique key: the loser's insert fails, its
transaction (and everything it did) rolls back, and it replays the winner's response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from kasse.domain.clock import utc
from kasse.domain.errors import ErrorCode, IdempotencyMismatch, InvalidRequest
from kasse.engine.unit import Kasse, Tx

__all__ = ["Outcome", "arun_idempotent", "fingerprint", "keep_response", "replay", "run_idempotent"]

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)  # kept with the answer (Stripe's Original-Request)


def fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps([method.upper(), path, payload], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _older(created_at: datetime, now: datetime, ttl_s: int) -> bool:
    return (utc(now) - utc(created_at)).total_seconds() >= ttl_s


def run_idempotent(
    kasse: Kasse,
    *,
    merchant_id: str,
    scope: str,
    key: str | None,
    fingerprint: str,
    operation: Callable[[Tx], tuple[int, Any]],
    ttl_s: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Outcome:
    """Run ``operation`` in one unit of work, recording (or replaying) its response under ``key``."""
    unit = _unit(scope, key, fingerprint, operation, ttl_s, headers)
    try:
        return kasse.run(merchant_id, unit)
    except IntegrityError:
        if key is None:
            raise
    return kasse.run(merchant_id, unit)  # another request with this key committed first: replay its response


async def arun_idempotent(
    kasse: Kasse,
    *,
    merchant_id: str,
    scope: str,
    key: str | None,
    fingerprint: str,
    operation: Callable[[Tx], tuple[int, Any]],
    ttl_s: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Outcome:
    """``run_idempotent`` for a coroutine (``Kasse.arun``)."""
    unit = _unit(scope, key, fingerprint, operation, ttl_s, headers)
    try:
        return await kasse.arun(merchant_id, unit)
    except IntegrityError:
        if key is None:
            raise
    return await kasse.arun(merchant_id, unit)


def _unit(
    scope: str,
    key: str | None,
    fingerprint: str,
    operation: Callable[[Tx], tuple[int, Any]],
    ttl_s: int | None,
    headers: Mapping[str, str] | None,
) -> Callable[[Tx], Outcome]:
    """The use case: replay the answer kept under ``key``, or run ``operation`` and keep its answer.
    A concurrent request with the same key that commits first makes the insert fail, and this unit (its
    savepoint or transaction) roll back; the caller runs it again, and it replays."""
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise InvalidRequest(
            ErrorCode.IDEMPOTENCY_KEY_INVALID,
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
            param="Idempotency-Key",
        )
    kept = dict(headers or {})

    def unit(tx: Tx) -> Outcome:
        if key is not None:
            stored = tx.store.get_idempotency(merchant_id=tx.merchant_id, scope=scope, key=key)
            if stored is not None and ttl_s is not None and _older(stored["created_at"], tx.now, ttl_s):
                # Expired (Stripe: keys are kept 24 hours): the key is free for a new request.
                tx.store.delete_idempotency(merchant_id=tx.merchant_id, scope=scope, key=key)
                stored = None
            if stored is not None:
                return replay(stored, key=key, fingerprint=fingerprint)
        status, body = operation(tx)
        if key is not None:
            tx.store.insert_idempotency(
                merchant_id=tx.merchant_id, scope=scope, key=key, fingerprint=fingerprint,
                response_status=status, response_body=json.dumps(body), response_headers=kept, created_at=tx.now,
            )  # fmt: skip
        return Outcome(status, body, headers=dict(kept))

    return unit


def replay(stored: Mapping[str, Any], *, key: str, fingerprint: str) -> Outcome:
    """The answer stored under ``key``; the same key with another request is refused."""
    if stored["fingerprint"] != fingerprint:
        raise IdempotencyMismatch(key)
    kept = stored.get("response_headers")
    headers = {str(k): str(v) for k, v in kept.items()} if isinstance(kept, dict) else {}
    return Outcome(int(stored["response_status"]), json.loads(stored["response_body"]), True, headers)


def keep_response(tx: Tx, *, scope: str, key: str, fingerprint: str, status: int, body: Any) -> None:
    """Store (or replace) the answer kept under ``key`` in ``scope``, in the caller's unit of work."""
    tx.store.delete_idempotency(merchant_id=tx.merchant_id, scope=scope, key=key)
    tx.store.insert_idempotency(
        merchant_id=tx.merchant_id, scope=scope, key=key, fingerprint=fingerprint, response_status=status,
        response_body=json.dumps(body), response_headers={}, created_at=tx.now,
    )  # fmt: skip
