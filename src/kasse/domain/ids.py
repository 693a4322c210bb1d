"""Prefixed, time-sortable identifiers (``pay_01J…``): 48 bits of milliseconds, 80 random bits,
Crockford base32 like ULID, so ids sort by creation and serve as pagination cursors."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime

__all__ = ["PREFIXES", "id_floor", "id_time_ms", "new_id", "new_token"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

PREFIXES = {
    "merchant": "mer",
    "payment": "pay",
    "capture": "cap",
    "refund": "rfd",
    "event": "evt",
    "transfer": "tr",
    "timer": "tmr",
    "webhook_endpoint": "we",
    "delivery": "dlv",
    "attempt": "att",
}

_lock = threading.Lock()
_last_ms = 0
_last_rand = 0


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(prefix: str, wall: datetime) -> str:
    """A new id; monotonic within the process even when several are made in one millisecond."""
    global _last_ms, _last_rand
    ms = int(wall.timestamp() * 1000)
    with _lock:
        if ms <= _last_ms:
            ms = _last_ms
            rand = _last_rand + 1
        else:
            rand = secrets.randbits(80)
        _last_ms, _last_rand = ms, rand & ((1 << 80) - 1)
    return f"{prefix}_{_encode(ms, 10)}{_encode(rand, 16)}"


def id_time_ms(identifier: str) -> int:
    """The millisecond an id was minted (its first 10 digits after the prefix)."""
    body = identifier.partition("_")[2]
    ms = 0
    for char in body[:10]:
        ms = ms * 32 + _ALPHABET.index(char)
    return ms


def id_floor(prefix: str, ms: int) -> str:
    """An id-shaped string that sorts below every id minted at or after ``ms`` (a bare time prefix sorts
    before every id that extends it)."""
    return f"{prefix}_{_encode(max(ms, 0), 10)}"


def new_token(nbytes: int = 24) -> str:
    """An unguessable URL-safe token (hosted-page links, secrets)."""
    return secrets.token_urlsafe(nbytes)
