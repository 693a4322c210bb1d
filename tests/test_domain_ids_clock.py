"""Ids (prefixed, time-sortable, monotonic) and clocks (frozen, offset, advance, freeze/resume)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kasse.domain import ids
from kasse.domain.clock import MerchantClock, system_wall_clock, utc
from kasse.domain.ids import PREFIXES, new_id, new_token

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
T0 = datetime(2031, 5, 17, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_id_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start from no previous id so the times used here are not pinned to ids made by other tests."""
    monkeypatch.setattr(ids, "_last_ms", 0)
    monkeypatch.setattr(ids, "_last_rand", 0)


def _millis(identifier: str) -> int:
    body = identifier.split("_", 1)[1]
    value = 0
    for ch in body[:10]:
        value = value * 32 + CROCKFORD.index(ch)
    return value


@pytest.mark.parametrize("kind", sorted(PREFIXES))
def test_id_has_prefix_and_26_character_crockford_body(kind: str) -> None:
    identifier = new_id(PREFIXES[kind], T0)
    prefix, body = identifier.split("_", 1)
    assert prefix == PREFIXES[kind]
    assert len(body) == 26
    assert re.fullmatch(f"[{CROCKFORD}]{{26}}", body)
    assert len(identifier) <= 40  # the width of every id column


def test_prefixes_are_distinct() -> None:
    assert len(set(PREFIXES.values())) == len(PREFIXES)


def test_id_encodes_the_millisecond() -> None:
    identifier = new_id("pay", T0 + timedelta(microseconds=123_456))
    assert _millis(identifier) == int(T0.timestamp() * 1000) + 123


def test_ids_sort_by_time() -> None:
    made = [new_id("pay", T0 + timedelta(milliseconds=n * 7)) for n in range(50)]
    assert made == sorted(made)
    assert len(set(made)) == 50


def test_ids_are_monotonic_within_one_millisecond() -> None:
    made = [new_id("evt", T0) for _ in range(2000)]
    assert made == sorted(made)
    assert len(set(made)) == 2000
    assert {_millis(i) for i in made} == {int(T0.timestamp() * 1000)}


def test_ids_stay_monotonic_when_the_wall_clock_steps_back() -> None:
    first = new_id("pay", T0)
    second = new_id("pay", T0 - timedelta(seconds=5))
    assert second > first
    assert _millis(second) == _millis(first)


def test_ids_are_unique_across_threads() -> None:
    out: list[list[str]] = [[] for _ in range(4)]

    def make(bucket: list[str]) -> None:
        bucket.extend(new_id("pay", T0) for _ in range(1000))

    threads = [threading.Thread(target=make, args=(b,)) for b in out]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [i for bucket in out for i in bucket]
    assert len(set(flat)) == 4000
    assert all(bucket == sorted(bucket) for bucket in out)


def test_tokens_are_unguessable_and_url_safe() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", t) for t in tokens)


# --- clocks ----------------------------------------------------------------------------------------


def test_system_wall_clock_is_aware_utc() -> None:
    now = system_wall_clock()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_utc_normalises_naive_and_other_zones() -> None:
    naive = datetime(2030, 1, 1, 12, 0)  # noqa: DTZ001 - what SQLite hands back
    assert utc(naive) == datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert utc(naive).tzinfo is UTC
    cest = timezone(timedelta(hours=2))
    converted = utc(datetime(2030, 1, 1, 14, 0, tzinfo=cest))
    assert converted.tzinfo is UTC and converted.hour == 12


def test_live_clock_follows_the_wall_plus_its_offset() -> None:
    clock = MerchantClock()
    assert not clock.frozen
    assert clock.now(T0) == T0
    assert clock.now(T0 + timedelta(seconds=30)) == T0 + timedelta(seconds=30)
    shifted = MerchantClock(offset_us=90_000_000)
    assert shifted.now(T0) == T0 + timedelta(seconds=90)


def test_frozen_clock_ignores_the_wall() -> None:
    frozen_at = T0 - timedelta(days=3)
    clock = MerchantClock(frozen_at=frozen_at)
    assert clock.frozen
    assert clock.now(T0) == frozen_at
    assert clock.now(T0 + timedelta(hours=5)) == frozen_at


def test_frozen_clock_read_back_naive_is_utc() -> None:
    clock = MerchantClock(frozen_at=datetime(2030, 1, 1))  # noqa: DTZ001 - SQLite hands back naive values
    assert clock.now(T0) == datetime(2030, 1, 1, tzinfo=UTC)


def test_advancing_a_live_clock_grows_its_offset() -> None:
    clock = MerchantClock().advanced(86_400, T0)
    assert not clock.frozen
    assert clock.offset_us == 86_400_000_000
    assert clock.now(T0) == T0 + timedelta(days=1)
    assert clock.now(T0 + timedelta(seconds=1)) == T0 + timedelta(days=1, seconds=1)
    assert clock.advanced(0.5, T0).now(T0) == T0 + timedelta(days=1, milliseconds=500)


def test_advancing_a_frozen_clock_moves_the_frozen_instant() -> None:
    clock = MerchantClock(frozen_at=T0).advanced(3600, T0 + timedelta(days=9))
    assert clock.frozen
    assert clock.now(T0 + timedelta(days=20)) == T0 + timedelta(hours=1)


def test_a_clock_never_moves_backwards() -> None:
    with pytest.raises(ValueError, match="forward"):
        MerchantClock().advanced(-1, T0)
    with pytest.raises(ValueError, match="forward"):
        MerchantClock(frozen_at=T0).advanced(-0.001, T0)


def test_freeze_and_resume_are_continuous() -> None:
    clock = MerchantClock(offset_us=5_000_000)
    frozen = clock.freeze(T0)
    assert frozen.frozen and frozen.now(T0 + timedelta(hours=2)) == T0 + timedelta(seconds=5)
    assert frozen.freeze(T0 + timedelta(hours=1)) == frozen  # freezing twice changes nothing
    later = T0 + timedelta(hours=2)
    resumed = frozen.resume(later)
    assert not resumed.frozen
    assert resumed.now(later) == T0 + timedelta(seconds=5)  # no jump back to wall time
    assert resumed.now(later + timedelta(seconds=10)) == T0 + timedelta(seconds=15)
    assert clock.resume(T0) == clock  # resuming a live clock is a no-op


def test_moved_to_keeps_the_mode() -> None:
    target = T0 + timedelta(days=2)
    live = MerchantClock().moved_to(target, T0)
    assert not live.frozen and live.now(T0) == target
    frozen = MerchantClock(frozen_at=T0).moved_to(target, T0 - timedelta(days=1))
    assert frozen.frozen and frozen.now(T0 + timedelta(days=30)) == target


def test_an_id_tells_its_millisecond_and_a_floor_sorts_below_every_later_id() -> None:
    from datetime import UTC, datetime, timedelta

    from kasse.domain.ids import id_floor, id_time_ms, new_id

    at = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    minted = new_id("evt", at)
    assert id_time_ms(minted) == int(at.timestamp() * 1000)
    assert id_floor("evt", id_time_ms(minted)) < minted < id_floor("evt", id_time_ms(minted) + 1)
    assert id_floor("evt", id_time_ms(minted)) < new_id("evt", at + timedelta(milliseconds=5))
