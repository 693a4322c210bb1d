"""``JSONResponse``: Starlette's, encoded by orjson — the same bytes, a fraction of the CPU.

Starlette encodes with ``json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))``.
orjson writes those bytes too (compact, UTF-8 unescaped, keys in insertion order, the same string
escapes) except for a few values, where this falls back to ``json.dumps`` so every answer keeps its
exact bytes:

- a float written with an exponent or smaller than 1e-4 (orjson ``1e-7`` / ``0.00001``, Python
  ``1e-07`` / ``1e-05``): seen in orjson's output, whose exponents always carry a sign (``e-``, ``e+``),
  or as ``0.0000`` (a string that merely contains one costs a fallback, never a wrong byte; three
  substring searches cost far less than a regular expression over the whole answer);
- what orjson refuses (non-string keys, integers beyond 64 bits, lone surrogates, unknown types): the
  fallback answers as before, or raises as before.

One difference stays: a NaN or infinite float, which ``json.dumps`` refuses (a 500) and orjson writes
as ``null``. Kasse's answers carry integer minor units, never such a float.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import JSONResponse as _StarletteJSONResponse

__all__ = ["JSONResponse", "dumps"]

_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_dumps(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def dumps(content: Any) -> bytes:
    """The bytes Starlette's ``JSONResponse`` would send for ``content``."""
    try:
        encoded = orjson.dumps(content, default=_refuse, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _json_dumps(content)
    if b"e-" in encoded or b"e+" in encoded or b"0.0000" in encoded:
        return _json_dumps(content)
    return encoded


class JSONResponse(_StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)
