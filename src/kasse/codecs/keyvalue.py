"""PAYONE's Server API wire format (``POST /post-gateway/``), both directions.

Requests are ``application/x-www-form-urlencoded`` (UTF-8) with flat, bracketed names kept as they are:
``add_paydata[action]=start_session``, ``it[1]=goods``. ``decode_form`` gives a flat ``str → str``
mapping; ``group`` and ``indexed`` read the bracket families out of it. shopware-6 (``PayoneClient.php``)
hands curl an array, which curl sends as ``multipart/form-data``: the edge reads such a body with its
form parser and passes the same flat mapping on.

Responses come in one of two shapes, chosen by the request's ``Accept`` (``negotiate``):

* ``key=value`` lines (the default). Readers differ (shared/reference/clients.md §4.2): woocommerce-3
  (``Request::createResponse``) explodes each line on *every* ``=`` and keeps the piece after the first,
  then trims it; commercetools splits on ``\\r?\\n`` and URL-decodes every value except ``redirecturl``.
  ``encode_lines`` refuses a line break anywhere (``ValueError``: it would start a new key) and writes
  everything else verbatim, ``=``, ``%``, ``+`` and surrounding blanks included — so a dialect that wants
  every client to read a value alike keeps those characters out of it (and out of ``redirecturl``'s
  query: woocommerce would cut it at the second ``=``).
* CamelCase JSON when ``Accept`` asks for ``application/json`` (pretix-payone, shopware-6):
  ``to_camel``/``from_camel`` map the lower-case names through one table (``_FIELDS``, ``_GROUPS``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from kasse.codecs import jsonwire
from kasse.domain.errors import ErrorCode, InvalidRequest

__all__ = [
    "decode_form",
    "decode_json",
    "decode_lines",
    "encode_form",
    "encode_json",
    "encode_lines",
    "from_camel",
    "group",
    "indexed",
    "negotiate",
    "to_camel",
]

# A Klarna cart may hold 400 items (seed 003) of six fields each (it, id, pr, no, de, va), plus the rest.
MAX_FORM_FIELDS = 2600

# Lower-case response name → path in the JSON answer. Sources: pretix-payone payment.py reads Status,
# TxId, RedirectUrl, Error.{ErrorCode,ErrorMessage,CustomerMessage}; shopware-6 (an early PayPal handler)
# reads TxId, UserId and AddPayData.token with this exact casing; shopware-6 reads clearing.Reference
# after lower-casing only the top-level keys, so "Reference" is confirmed and "Clearing" only up to case.
# [unconfirmed] "WorkOrderId": every reader seen lower-cases it. Other clearing_* fields (clearing_bank*,
# instruction and legal notes) have JSON names in PAYONE's "How to use JSON-Responses" page, which we
# have not read: they are not mapped, so encoding them raises instead of guessing.
_FIELDS: dict[str, tuple[str, ...]] = {
    "status": ("Status",),
    "txid": ("TxId",),
    "userid": ("UserId",),
    "redirecturl": ("RedirectUrl",),
    "workorderid": ("WorkOrderId",),
    "errorcode": ("Error", "ErrorCode"),
    "errormessage": ("Error", "ErrorMessage"),
    "customermessage": ("Error", "CustomerMessage"),
    "clearing_reference": ("Clearing", "Reference"),
    # [unconfirmed] no JSON reader of a capture's or debit's settleaccount was found; CamelCase as above.
    "settleaccount": ("SettleAccount",),
}
# name[x] families: add_paydata[client_token] → AddPayData.client_token (the inner name unchanged).
# [unconfirmed] addresponsedata[…] as "AddResponseData", by analogy with AddPayData.
_GROUPS: dict[str, str] = {"add_paydata": "AddPayData", "addresponsedata": "AddResponseData"}
_PATHS = {path: name for name, path in _FIELDS.items()}
_GROUP_NAMES = {camel: name for name, camel in _GROUPS.items()}
_MEMBER = re.compile(r"([^\[\]]+)\[([^\[\]]+)\]")


def decode_form(body: bytes | str, encoding: str = "utf-8") -> dict[str, str]:
    """A request body as a flat mapping. A name sent twice is refused: no PAYONE client does it, and
    which of the two counts would be a guess. ``encoding``: the request's ``encoding`` parameter
    (``UTF-8`` or ``ISO-8859-1``), for the body and its percent-escapes alike."""
    try:
        text = body.decode(encoding) if isinstance(body, bytes) else body
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, encoding=encoding,
                          errors="strict")  # fmt: skip
    except ValueError as exc:  # UnicodeDecodeError included
        raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Invalid request body: {exc}") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Parameter {name} sent twice", param=name)
        form[name] = value
    return form


def encode_form(mapping: Mapping[str, str | int]) -> str:
    """Brackets percent-encoded, as PHP's ``http_build_query`` and python-requests send them."""
    for name, value in mapping.items():
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise TypeError(f"{name}: form values are str or int, not {type(value).__name__}")
    return urlencode(mapping)


def group(form: Mapping[str, str], family: str) -> dict[str, str]:
    """``family[x]=v`` members of a flat form: ``group(form, "add_paydata")`` → ``{"action": …}``."""
    members: dict[str, str] = {}
    for name, value in form.items():
        match = _MEMBER.fullmatch(name)
        if match is not None and match.group(1) == family:
            members[match.group(2)] = value
    return members


def indexed(form: Mapping[str, str], families: tuple[str, ...]) -> dict[int, dict[str, str]]:
    """Line items by index: ``indexed(form, ("it", "id", "pr"))`` → ``{1: {"it": …, "id": …, "pr": …}}``,
    in index order. An index that is not a whole number written plainly is refused."""
    rows: dict[int, dict[str, str]] = {}
    for family in families:
        for index, value in group(form, family).items():
            # "it[01]" next to "it[1]" would be the same row twice: only canonical numbers are indices.
            if not (index.isascii() and index.isdigit()) or str(int(index)) != index:
                param = f"{family}[{index}]"
                raise InvalidRequest(ErrorCode.PARAMETER_INVALID, f"Invalid index in {param}", param=param)
            rows.setdefault(int(index), {})[family] = value
    return dict(sorted(rows.items()))


def negotiate(accept: str | None) -> Literal["lines", "json"]:
    """JSON only when ``Accept`` names ``application/json`` with a non-zero q; PAYONE's default (and the
    answer to ``*/*`` or no header) is lines."""
    for media_range in (accept or "").split(","):
        kind, *params = (part.strip().lower() for part in media_range.split(";"))
        if kind == "application/json" and _acceptable(params):
            return "json"
    return "lines"


def _acceptable(params: list[str]) -> bool:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "q":
            try:
                return float(value) > 0
            except ValueError:
                return False
    return True


def encode_lines(mapping: Mapping[str, str]) -> str:
    """``key=value`` lines, each ended by ``\\n`` (an empty mapping is the empty text)."""
    for name, value in mapping.items():
        if not name or name != name.strip() or "=" in name or _breaks(name):
            raise ValueError(f"Invalid response key {name!r}")
        if _breaks(value):
            raise ValueError(f"{name}: a line break cannot be sent in a key=value response")
    return "".join(f"{name}={value}\n" for name, value in mapping.items())


def decode_lines(text: str) -> dict[str, str]:
    """Split at the first ``=``; ``\\r\\n`` is read as ``\\n`` and blank lines are skipped. Raises
    ``ValueError`` on a line without ``=`` or a key given twice."""
    fields: dict[str, str] = {}
    for raw in text.split("\n"):
        line = raw.removesuffix("\r")
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep or name in fields:
            raise ValueError(f"Invalid response line {line!r}")
        fields[name] = value
    return fields


def _breaks(text: str) -> bool:
    return "\n" in text or "\r" in text


def to_camel(mapping: Mapping[str, str]) -> dict[str, Any]:
    """The JSON answer for lower-case response fields; a field without a known JSON name raises
    ``ValueError``."""
    doc: dict[str, Any] = {}
    for name, value in mapping.items():
        *parents, leaf = _path(name)
        node = doc
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return doc


def from_camel(doc: Mapping[str, Any]) -> dict[str, str]:
    """The inverse of ``to_camel``: lower-case fields from a JSON answer whose leaves are strings."""
    fields: dict[str, str] = {}
    for path, value in _leaves(doc, ()):
        if path in _PATHS:
            fields[_PATHS[path]] = value
        elif len(path) == 2 and path[0] in _GROUP_NAMES:
            fields[f"{_GROUP_NAMES[path[0]]}[{path[1]}]"] = value
        else:
            raise ValueError(f"Unknown field {'.'.join(path)}")
    return fields


def encode_json(mapping: Mapping[str, str]) -> str:
    return jsonwire.dumps(to_camel(mapping))


def decode_json(text: str | bytes) -> dict[str, str]:
    doc = jsonwire.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("A PAYONE JSON answer is an object")
    return from_camel(doc)


def _path(name: str) -> tuple[str, ...]:
    if name in _FIELDS:
        return _FIELDS[name]
    match = _MEMBER.fullmatch(name)
    if match is not None and match.group(1) in _GROUPS:
        return (_GROUPS[match.group(1)], match.group(2))
    raise ValueError(f"No JSON name for response field {name!r}")


def _leaves(node: Mapping[str, Any], prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    for key, value in node.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, (*prefix, key))
        elif isinstance(value, str):
            yield (*prefix, key), value
        else:
            raise ValueError(f"{'.'.join((*prefix, key))}: expected a string, not {type(value).__name__}")
