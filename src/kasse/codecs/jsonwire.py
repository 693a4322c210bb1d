"""JSON with exact money, both directions.

Amounts travel as integers of minor units or as ``Decimal`` major units (``kasse.domain.money``
converts between the two); neither may pass through a float. So ``dumps`` writes a ``Decimal`` as the
number text it is (``Decimal("10.10")`` → ``10.10``) and refuses floats outright, and ``loads`` reads
every number with a fraction or exponent as a ``Decimal`` (``10.10`` → ``Decimal("10.10")``). NaN and
the infinities are not JSON: refused both ways.

One asymmetry is the format's, not ours: a ``Decimal`` written without a point or exponent
(``Decimal("5")``) is the JSON integer ``5`` and reads back as ``int`` (equal in value; ``-0`` becomes
``0``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any, NoReturn

__all__ = ["dumps", "loads"]


def dumps(value: Any, *, compact: bool = True, ensure_ascii: bool = False) -> str:
    """``compact`` drops the blanks after ``,`` and ``:`` (what Kasse sends on the wire); otherwise the
    separators are ``json.dumps``' defaults. Mapping keys must be strings."""
    parts: list[str] = []
    _Writer(parts, compact=compact, ensure_ascii=ensure_ascii).write(value)
    return "".join(parts)


def loads(text: str | bytes) -> Any:
    """Raises ``ValueError`` (``json.JSONDecodeError`` for bad syntax) on anything that is not JSON."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


class _Writer:
    def __init__(self, parts: list[str], *, compact: bool, ensure_ascii: bool) -> None:
        self.parts = parts
        self.item_sep, self.key_sep = (",", ":") if compact else (", ", ": ")
        self.string = encode_basestring_ascii if ensure_ascii else encode_basestring

    def write(self, value: Any) -> None:
        out = self.parts.append
        if value is None:
            out("null")
        elif value is True:
            out("true")
        elif value is False:
            out("false")
        elif isinstance(value, str):
            out(self.string(value))
        elif isinstance(value, int):
            out(int.__repr__(value))  # an IntEnum member is its number, not its name
        elif isinstance(value, Decimal):
            out(_decimal_text(value))
        elif isinstance(value, Mapping):
            self._object(value)
        elif isinstance(value, list | tuple):
            self._array(value)
        elif isinstance(value, float):
            raise TypeError(f"refusing float {value!r}: send minor units (int) or a Decimal")
        else:
            raise TypeError(f"{type(value).__name__} is not JSON serializable")

    def _object(self, value: Mapping[Any, Any]) -> None:
        self.parts.append("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be str, not {type(key).__name__}")
            if index:
                self.parts.append(self.item_sep)
            self.parts.append(self.string(key))
            self.parts.append(self.key_sep)
            self.write(item)
        self.parts.append("}")

    def _array(self, value: list[Any] | tuple[Any, ...]) -> None:
        self.parts.append("[")
        for index, item in enumerate(value):
            if index:
                self.parts.append(self.item_sep)
            self.write(item)
        self.parts.append("]")


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    # str() of a finite Decimal is always a valid JSON number ("10.10", "1E+2", "0E-7", "-0.00") and
    # keeps the exponent, so trailing zeros survive the round trip.
    return str(value)
