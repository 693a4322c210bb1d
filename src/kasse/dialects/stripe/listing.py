"""Stripe's list parameters: ``limit``, the ``starting_after``/``ending_before`` cursors (an id that names
no object is a 400 ``resource_missing``, as Stripe answers), ``created`` as an integer or a
``gt``/``gte``/``lt``/``lte`` hash, and each list's own filters. Any other parameter is
``parameter_unknown``: Stripe applies every filter it knows and refuses the rest, so a shop never gets
an unfiltered list it took for a filtered one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kasse.dialects.stripe.errors import StripeCode as S
from kasse.dialects.stripe.errors import StripeRefusal
from kasse.dialects.stripe.fields import check_known, integer, invalid, string
from kasse.domain.errors import ErrorCode as E
from kasse.domain.errors import NotFound

__all__ = ["ListIn", "created_in", "cursors", "exists", "list_in"]

PAGING = {"limit", "starting_after", "ending_before", "expand"}


@dataclass(frozen=True)
class ListIn:
    limit: int
    starting_after: str | None
    ending_before: str | None
    created: dict[str, datetime] = field(default_factory=dict)
    filters: dict[str, str] = field(default_factory=dict)  # the list's own filters that were given


def list_in(
    params: dict[str, Any], filters: Iterable[str] = (), *, created: bool = False, other: Iterable[str] = ()
) -> ListIn:
    """The page asked for; ``filters`` are the list's string filters, ``created`` whether it has one,
    ``other`` the parameters the caller reads itself."""
    names = set(filters)
    check_known(params, PAGING | names | set(other) | ({"created"} if created else set()))
    limit = integer(params, "limit")
    if limit is not None and not 1 <= limit <= 100:
        raise invalid(S.PARAMETER_INVALID_INTEGER, "Invalid limit: must be between 1 and 100", "limit")
    after = string(params, "starting_after", max_length=100)
    before = string(params, "ending_before", max_length=100)
    if after and before:
        raise invalid(
            E.PARAMETER_INVALID,
            "You may only specify one of these parameters: starting_after, ending_before.",
            "ending_before",
        )
    given = {name: value for name in sorted(names) if (value := string(params, name, max_length=100)) is not None}
    return ListIn(limit or 10, after or None, before or None, created_in(params) if created else {}, given)


def created_in(params: dict[str, Any]) -> dict[str, datetime]:
    value = params.get("created")
    if value is None:
        return {}
    items = {"eq": value} if isinstance(value, str) else value
    if not isinstance(items, dict):
        raise invalid(E.PARAMETER_INVALID, "Invalid created: an integer or a hash", "created")
    bounds: dict[str, datetime] = {}
    for op, raw in items.items():
        param = "created" if op == "eq" else f"created[{op}]"
        if op not in ("eq", "gt", "gte", "lt", "lte"):
            raise invalid(E.PARAMETER_UNKNOWN, f"Received unknown parameter: created[{op}]", param)
        if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 11:
            raise invalid(S.PARAMETER_INVALID_INTEGER, f"Invalid integer: {raw}", param)
        if op == "eq":
            bounds["gte"] = datetime.fromtimestamp(int(raw), tz=UTC)
            bounds["lt"] = datetime.fromtimestamp(int(raw) + 1, tz=UTC)
        else:
            bounds[op] = datetime.fromtimestamp(int(raw), tz=UTC)
    return bounds


def cursors(page: ListIn, noun: str, find: Callable[[str], str | None]) -> tuple[str | None, str | None]:
    """The Kasse ids behind the page's cursors; ``find`` answers None for an id that names nothing."""
    found: list[str | None] = []
    for param, value in (("starting_after", page.starting_after), ("ending_before", page.ending_before)):
        kasse_id = None if value is None else find(value)
        if value is not None and kasse_id is None:
            raise StripeRefusal(S.RESOURCE_MISSING, f"No such {noun}: '{value}'", param=param)
        found.append(kasse_id)
    return found[0], found[1]


def exists(find: Callable[[], str]) -> str | None:
    """``find()``'s id, or None where it raises ``NotFound``: a cursor's lookup."""
    try:
        return find()
    except NotFound:
        return None
