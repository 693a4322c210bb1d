"""``GET /api/v1/events/stream``: this merchant's events, live, as Server-Sent Events (what ``kasse listen``
reads). Polls the outbox; holds no database connection between polls; ends after ``max_duration_s``, and
a client resumes where it was with ``Last-Event-ID``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse

from kasse.dialects.native.auth import merchant_from_bearer
from kasse.dialects.native.errors import ERROR_RESPONSES
from kasse.dialects.native.translate import event_out
from kasse.domain.clock import monotonic_s
from kasse.domain.ids import PREFIXES, id_floor, id_time_ms, new_id
from kasse.domain.models import Event
from kasse.domain.webhooks import matches
from kasse.edge.request import base_url, kasse_of
from kasse.engine.unit import Kasse

__all__ = ["LIMITS", "StreamLimits", "router"]

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)

EVENT_ID = r"^evt_[0-9A-HJKMNP-TV-Z]{26}$"
TYPES = r"^[a-z_.*]+( *, *[a-z_.*]+)*$"


@dataclass(frozen=True)
class StreamLimits:
    poll_s: float = 0.25
    heartbeat_s: float = 15.0
    max_duration_s: float = 3600.0  # then the stream ends; clients reconnect with Last-Event-ID
    lookback_s: float = 2.0  # how late a transaction may commit an event whose id is below one already sent
    batch: int = 500  # new events sent per poll at most


LIMITS = StreamLimits()


def _time_floor(event_id: str, lookback_s: float) -> str:
    """An id below every event id minted ``lookback_s`` before ``event_id``."""
    return id_floor(PREFIXES["event"], id_time_ms(event_id) - int(lookback_s * 1000))


@dataclass
class _Cursor:
    """Where a stream is. A transaction can commit an event after a later-minted one was sent, so each poll
    looks ``lookback_s`` below the newest id sent and skips what it already sent."""

    after: str  # the newest event id sent (or the start)
    start: str  # never send this id or anything below it
    seen: set[str] = field(default_factory=set)

    def floor(self, lookback_s: float) -> str:
        return max(self.start, _time_floor(self.after, lookback_s))


def _start(kasse: Kasse, merchant_id: str, resume_after: str | None) -> _Cursor:
    """Resume after a given id, or start from now: after the newest event, or after a fresh id if none."""
    if resume_after is None:
        with kasse.read() as store:
            newest = store.list_events(merchant_id=merchant_id, limit=1).items
        resume_after = newest[0].id if newest else new_id(PREFIXES["event"], kasse.wall())
    return _Cursor(after=resume_after, start=resume_after)


def _poll(kasse: Kasse, merchant_id: str, cursor: _Cursor, limits: StreamLimits) -> list[Event]:
    """The events not sent yet, oldest first, at most ``limits.batch``; one short read transaction."""
    floor = cursor.floor(limits.lookback_s)
    fresh: list[Event] = []
    with kasse.read() as store:
        after = floor
        while len(fresh) < limits.batch:
            rows = store.events_after(merchant_id=merchant_id, after_id=after, limit=limits.batch)
            fresh += [e for e in rows if e.id not in cursor.seen][: limits.batch - len(fresh)]
            if len(rows) < limits.batch:
                break
            after = rows[-1].id
    cursor.seen = {i for i in cursor.seen if i > floor} | {e.id for e in fresh}
    cursor.after = max([cursor.after, *(e.id for e in fresh)])
    return fresh


def _frame(event: Event, base_url: str) -> str:
    data = json.dumps(event_out(event, base_url), separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"


async def _stream(request: Request, merchant_id: str, cursor: _Cursor, patterns: list[str]) -> AsyncIterator[str]:
    kasse, base = kasse_of(request), base_url(request)
    limits = LIMITS
    started = last_sent = monotonic_s()
    # An id without data sets the client's Last-Event-ID: a reconnect before any event still resumes here.
    yield f": connected\nid: {cursor.after}\n\n"
    while monotonic_s() - started < limits.max_duration_s and not await request.is_disconnected():
        events = await run_in_threadpool(_poll, kasse, merchant_id, cursor, limits)
        frames = "".join(_frame(e, base) for e in events if matches(patterns, e.type))
        if not frames and monotonic_s() - last_sent >= limits.heartbeat_s:
            frames = ": keep-alive\n\n"
        if frames:
            last_sent = monotonic_s()
            yield frames
        if len(events) < limits.batch:
            await asyncio.sleep(limits.poll_s)


@router.get(
    "/events/stream",
    tags=["events"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def stream_events(
    request: Request,
    merchant_id: Annotated[str, Depends(merchant_from_bearer)],
    types: Annotated[
        str | None, Query(max_length=500, pattern=TYPES, description="e.g. payment.*,refund.succeeded")
    ] = None,
    starting_after: Annotated[str | None, Query(pattern=EVENT_ID, description="Replay events after this id")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", pattern=EVENT_ID)] = None,
) -> StreamingResponse:
    """This merchant's new events as they happen (`id:`, `event:`, `data:` = the event as
    `GET /api/v1/events/{id}` shows it). With `Last-Event-ID` (or `starting_after`), first the events after it."""
    patterns = [p.strip() for p in types.split(",")] if types else ["*"]
    cursor = await run_in_threadpool(_start, kasse_of(request), merchant_id, last_event_id or starting_after)
    return StreamingResponse(
        _stream(request, merchant_id, cursor, patterns),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
