"""The lean edge keeps every byte and every route: orjson answers exactly what ``json.dumps`` answered, and
the prefix guard on included routers never changes which route a request reaches."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.routing import _IncludedRouter
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import Match

from kasse.config import Settings
from kasse.edge.json import JSONResponse, dumps
from kasse.web.app import create_app


def _starlette(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=-1e-3, max_value=1e-3)
    | st.text()
)
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20
)


@settings(max_examples=400, deadline=None)
@given(_VALUES)
def test_orjson_answers_the_bytes_json_dumps_answered(value: Any) -> None:
    assert dumps(value) == _starlette(value)


def test_what_orjson_refuses_or_writes_otherwise_falls_back() -> None:
    for value in ({1: "int key"}, {"big": 2**80}, [1e-7, 1e-5, 1e16, 1e22, -2.5e-8], {"t": (1, 2)}):
        assert dumps(value) == _starlette(value)
    for refused in ({"s": "\ud800"}, {"x": {1, 2}}):
        with pytest.raises((UnicodeEncodeError, TypeError)):
            _starlette(refused)
        with pytest.raises((UnicodeEncodeError, TypeError)):
            dumps(refused)
    assert JSONResponse({"a": "é", "b": [1, None]}).body == '{"a":"é","b":[1,null]}'.encode()


def _samples(path_format: str) -> list[str]:
    filled = path_format.replace("{", "x").replace("}", "")
    return [filled, filled + "/", filled + "/more", filled.rstrip("/").rsplit("/", 1)[0] or "/"]


def test_the_prefix_guard_never_changes_a_match(tmp_path: Any) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/k.db", run_workers=False))
    paths = {"/", "/nowhere", "/api", "/api/v1", "/stripe", "/klarna", "/payone", "/dashboard/"}
    for route in app.routes:
        for path in _samples(str(getattr(route, "path_format", getattr(route, "path", "/")))):
            paths.add(path)
    guarded = [route for route in app.router.routes if isinstance(route, _IncludedRouter) and "matches" in vars(route)]
    assert len(guarded) >= 20  # every dialect's routers and most of Kasse's own
    for path in sorted(paths):
        for method in ("GET", "POST", "DELETE", "PATCH", "PUT", "HEAD", "OPTIONS"):
            for route in guarded:
                scope = {"type": "http", "path": path, "root_path": "", "method": method, "headers": []}
                fast, _ = route.matches(dict(scope))
                full, _ = type(route).matches(route, dict(scope))
                assert fast == full, (path, method)
                if fast is not Match.NONE:
                    assert fast in (Match.FULL, Match.PARTIAL)
