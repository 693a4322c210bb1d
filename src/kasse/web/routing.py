"""Route matching without a scan of every route for every request.

FastAPI matches a request against the app's routes one by one, and an included router against each of
its own routes: a ``POST /stripe/v1/sources`` used to try some 70 routes of the routers mounted before
the Stripe dialect's, twice (once to choose the router, once inside it), ~60 to 90 µs of CPU per request.
Every route of an included router lies under the router's prefix (the prefix it was included with plus
its own), so a path outside that prefix can match none of them, neither fully nor partly (405): such a
router answers "no match" at once. Matching is otherwise FastAPI's own, in the same order, with the
same result — only the hopeless tries are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import _IncludedRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

__all__ = ["skip_foreign_prefixes"]


def _leaf_paths(included: _IncludedRouter) -> Iterator[str | None]:
    for candidate in included.effective_candidates():
        if isinstance(candidate, _IncludedRouter):
            yield from _leaf_paths(candidate)
        else:
            route = candidate.starlette_route or candidate
            yield getattr(route, "path_format", None)


def _prefixes_of(included: _IncludedRouter) -> tuple[str, ...] | None:
    """Literal prefixes, one of which every route of ``included`` starts with (its path up to the first
    parameter: the rest of a route's pattern is escaped literal text), or None when none can be shown."""
    paths = list(_leaf_paths(included))
    if not paths or any(path is None for path in paths):
        return None
    literals = sorted({str(path).split("{", 1)[0] for path in paths})
    prefix = included.include_context.prefix + included.original_router.prefix
    if prefix and all(literal.startswith(prefix) for literal in literals):
        return (prefix,)
    kept = [lit for lit in literals if not any(lit != other and lit.startswith(other) for other in literals)]
    return None if "/" in kept or "" in kept else tuple(kept)


def _guarded(
    matches: Callable[[Scope], tuple[Match, Scope]], prefixes: tuple[str, ...]
) -> Callable[[Scope], tuple[Match, Scope]]:
    def guarded(scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket") and not get_route_path(scope).startswith(prefixes):
            return Match.NONE, {}
        return matches(scope)

    return guarded


def skip_foreign_prefixes(app: FastAPI) -> None:
    """Let each included router of ``app`` refuse paths outside its prefix without trying its routes.
    Call once every router is included; a router whose routes do not all share its prefix is left alone."""
    for route in app.router.routes:
        if isinstance(route, _IncludedRouter):
            prefixes = _prefixes_of(route)
            if prefixes is not None:
                original: Any = route.matches
                route.matches = _guarded(original, prefixes)  # type: ignore[method-assign,assignment]
