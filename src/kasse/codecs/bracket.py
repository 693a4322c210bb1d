"""Stripe's bracket form (``application/x-www-form-urlencoded`` with nested keys), both directions:
``owner[email]=a%40b.de``, ``expand[]=source`` or ``expand[0]=source``, ``metadata[k]=v``.

Decoding takes brackets literal or percent-encoded. Encoding writes what stripe-python 16 sends
(``stripe/_encode.py`` ``_api_encode`` plus the ``%5B``/``%5D`` → ``[``/``]`` step in
``_api_requestor.py``): nested hashes as ``a[b]=``, lists indexed ``a[0]=``, booleans ``true``/``false``,
``None`` left out, brackets literal. The form cannot carry everything a dict can, so a round trip is not
the identity for: a hash whose keys are all (ASCII) digits (it decodes as a list in index order), an
empty hash or list or a ``None`` (nothing is sent, so the key vanishes), and scalars (they decode as
strings)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

from kasse.domain.errors import ErrorCode, InvalidRequest

__all__ = ["decode_bracket_form", "decode_bracket_pairs", "encode_bracket_form", "encode_bracket_pairs"]

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_PART = re.compile(r"\[([^\[\]]*)\]")
_INDEX = re.compile(r"[0-9]+")
MAX_DEPTH = 5


def decode_bracket_form(body: bytes | str) -> dict[str, Any]:
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, "The request body is not valid UTF-8") from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=1000)
    except ValueError as exc:
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Invalid request body: {exc}") from None
    return decode_bracket_pairs(pairs)


def decode_bracket_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Nested dicts from bracketed keys; ``[]`` appends to a list, and a nested hash whose keys are all
    digits becomes a list in index order (the top level always stays a hash)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.fullmatch(key)
        if match is None:
            raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Invalid parameter name: {key}", param=key)
        path = [match.group(1), *_PART.findall(match.group(2))]
        if len(path) > MAX_DEPTH:
            raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Parameter nested too deeply: {key}", param=key)
        _put(root, path, value, key)
    return {name: _listify(value) for name, value in root.items()}


def _put(node: dict[str, Any], path: list[str], value: str, key: str) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        if isinstance(node.get(head), dict | list):
            raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Invalid hash or array: {key}", param=key)
        node[head] = value
        return
    if rest == [""]:  # name[]=value appends
        existing = node.setdefault(head, [])
        if not isinstance(existing, list):
            raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Invalid array: {key}", param=key)
        existing.append(value)
        return
    child = node.setdefault(head, {})
    if not isinstance(child, dict):
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Invalid hash: {key}", param=key)
    if rest[0] == "":
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Invalid parameter name: {key}", param=key)
    _put(child, rest, value, key)


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        if converted and all(_INDEX.fullmatch(k) for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    if isinstance(value, list):
        return [_listify(v) for v in value]
    return value


def encode_bracket_form(data: Mapping[str, Any]) -> str:
    # urlencode quotes "[" and "]"; stripe-python turns them back into literals (so do we, for the same
    # bytes on the wire). A bracket inside a value is then literal too, which every form parser reads back.
    return urlencode(encode_bracket_pairs(data)).replace("%5B", "[").replace("%5D", "]")


def encode_bracket_pairs(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (key, value) pairs stripe-python's ``_api_encode`` yields, as strings.

    Deliberately narrower than the SDK: a float is refused (money is never a float here), and so is a key
    with a bracket (it would decode as a different path). Inside a list the SDK writes a boolean as
    ``True`` and ``None`` as ``None``; here a boolean is ``true``/``false`` everywhere and a ``None`` in a
    list is refused (leaving it out would shift the indices after it)."""
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        _check_key(key)
        _encode(key, value, pairs)
    return pairs


def _encode(key: str, value: Any, pairs: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for sub, item in value.items():
            _check_key(sub)
            _encode(f"{key}[{sub}]", item, pairs)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if item is None:
                raise ValueError(f"None at {key}[{index}] has no form encoding")
            _encode(f"{key}[{index}]", item, pairs)
    elif isinstance(value, bool):
        pairs.append((key, "true" if value else "false"))
    elif isinstance(value, str | int | Decimal):
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(f"{key}: {value} is not a number")
        pairs.append((key, str(value)))
    else:
        raise TypeError(f"{key}: cannot form-encode {type(value).__name__}")


def _check_key(key: object) -> None:
    if not isinstance(key, str) or not key or "[" in key or "]" in key:
        raise ValueError(f"Invalid form key {key!r}: a non-empty string without brackets")
