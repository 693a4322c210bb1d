"""Wire encodings shared by dialects. Stripe's bracket form (``application/x-www-form-urlencoded`` with
nested keys): ``owner[email]=a%40b.de``, ``expand[]=source`` or ``expand[0]=source``, ``metadata[k]=v``.
Brackets arrive literal or percent-encoded; both decode the same."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from kasse.domain.errors import InvalidRequest

__all__ = ["decode_bracket_form", "decode_bracket_pairs"]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 5


def decode_bracket_form(body: bytes | str) -> dict[str, Any]:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=1000)
    except ValueError as exc:
        raise InvalidRequest("parameter_invalid", f"Invalid request body: {exc}") from None
    return decode_bracket_pairs(pairs)


def decode_bracket_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Nested dicts from bracketed keys; ``[]`` appends to a list, and a hash whose keys are all digits
    becomes a list in index order."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise InvalidRequest("parameter_invalid", f"Invalid parameter name: {key}", param=key)
        path = [match.group(1), *_PART.findall(match.group(2))]
        if len(path) > MAX_DEPTH:
            raise InvalidRequest("parameter_invalid", f"Parameter nested too deeply: {key}", param=key)
        _put(root, path, value, key)
    decoded: dict[str, Any] = _listify(root)
    return decoded


def _put(node: dict[str, Any], path: list[str], value: str, key: str) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        if isinstance(node.get(head), dict | list):
            raise InvalidRequest("parameter_invalid", f"Invalid hash or array: {key}", param=key)
        node[head] = value
        return
    if rest == [""]:  # name[]=value appends
        existing = node.setdefault(head, [])
        if not isinstance(existing, list):
            raise InvalidRequest("parameter_invalid", f"Invalid array: {key}", param=key)
        existing.append(value)
        return
    child = node.setdefault(head, {})
    if not isinstance(child, dict):
        raise InvalidRequest("parameter_invalid", f"Invalid hash: {key}", param=key)
    if rest[0] == "":
        raise InvalidRequest("parameter_invalid", f"Invalid parameter name: {key}", param=key)
    _put(child, rest, value, key)


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    if isinstance(value, list):
        return [_listify(v) for v in value]
    return value
