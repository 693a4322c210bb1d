"""``expand[]``: the ids Stripe lets a request replace with the objects they name, on create, retrieve,
update and list (``data.`` prefixed) alike, up to four levels deep, as Stripe does. One table says which
field of which object is expandable and into what; a path it does not allow is refused before anything
changes ("This property cannot be expanded"), as Stripe refuses it.

Fields that are always null in Kasse (a charge's ``customer``, ``payment_intent``…) are expandable, as at
Stripe, and stay null."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kasse.dialects.stripe.fields import invalid
from kasse.dialects.stripe.loaders import (
    balance_transaction,
    charge_of,
    find_charge,
    find_refund,
    find_source,
    refund_of,
)
from kasse.dialects.stripe.translate import source_out
from kasse.domain.errors import ErrorCode as E
from kasse.storage.store import Store

__all__ = ["EXPANDABLE", "Expander", "Paths", "expand_in"]

Paths = list[list[str]]
MAX_DEPTH = 4
NULL = "null"  # a field Kasse never fills: expandable, stays null
LIST = "list:"

# object → expandable field → the kinds of object it expands into (stripe-python's ExpandableField[...]).
EXPANDABLE: dict[str, dict[str, tuple[str, ...]]] = {
    "charge": {
        "balance_transaction": ("balance_transaction",), "failure_balance_transaction": ("balance_transaction",),
        "source": ("source",), "refunds": (LIST + "refund",), "application": (NULL,), "application_fee": (NULL,),
        "customer": (NULL,), "on_behalf_of": (NULL,), "payment_intent": (NULL,), "review": (NULL,),
        "source_transfer": (NULL,), "transfer": (NULL,),
    },
    "refund": {
        "balance_transaction": ("balance_transaction",), "failure_balance_transaction": ("balance_transaction",),
        "charge": ("charge",), "customer": (NULL,), "payment_intent": (NULL,), "payment_method": (NULL,),
        "source_transfer_reversal": (NULL,), "transfer_reversal": (NULL,),
    },
    "balance_transaction": {"source": ("charge", "refund")},
    "source": {"customer": (NULL,)},
    "event": {},
    "webhook_endpoint": {},
}  # fmt: skip


def _refused(path: str) -> Exception:
    return invalid(E.PARAMETER_INVALID, f"This property cannot be expanded ({path}).", "expand")


def _check(kinds: tuple[str, ...], parts: list[str], path: str) -> None:
    if not parts or NULL in kinds:
        return
    head, rest = parts[0], parts[1:]
    lists = tuple(k.removeprefix(LIST) for k in kinds if k.startswith(LIST))
    if lists:
        if head != "data":
            raise _refused(path)
        _check(lists, rest, path)
        return
    found = [EXPANDABLE[k][head] for k in kinds if head in EXPANDABLE.get(k, {})]
    if not found:
        raise _refused(path)
    _check(tuple(k for f in found for k in f), rest, path)


def expand_in(params: dict[str, Any], root: str) -> Paths:
    """The paths of ``expand[]``, checked against what a ``root`` object (``list:charge`` for a list)
    allows."""
    value = params.get("expand")
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    paths: Paths = []
    for item in items:
        if not isinstance(item, str) or not item:
            raise invalid(E.PARAMETER_INVALID, "Invalid array: expand must be a list of strings", "expand")
        parts = item.split(".")
        depth = len(parts) - (1 if root.startswith(LIST) else 0)
        if depth > MAX_DEPTH:
            raise invalid(
                E.PARAMETER_INVALID, f"You cannot expand more than {MAX_DEPTH} levels of a property ({item}).", "expand"
            )
        _check((root,), parts, item)
        paths.append(parts)
    return paths


class Expander:
    """Replaces ids by objects along the checked paths, reading from ``store``."""

    def __init__(self, store: Store, merchant_id: str, base_url: str) -> None:
        self.store, self.merchant_id, self.base_url = store, merchant_id, base_url
        self._loaders: dict[str, Callable[[str], dict[str, Any]]] = {
            "ch": lambda i: charge_of(store, find_charge(store, merchant_id, i), base_url),
            "re": lambda i: refund_of(store, find_refund(store, merchant_id, i)),
            "txn": lambda i: balance_transaction(store, merchant_id, i),
            "src": lambda i: source_out(find_source(store, merchant_id, i), base_url),
        }

    def apply(self, obj: dict[str, Any], paths: Paths) -> dict[str, Any]:
        for parts in paths:
            self._expand(obj, parts)
        return obj

    def _expand(self, obj: Any, parts: list[str]) -> None:
        if not parts or not isinstance(obj, dict):
            return
        head, rest = parts[0], parts[1:]
        if obj.get("object") == "list" and head == "data":
            for item in obj.get("data", []):
                self._expand(item, rest)
            return
        value = obj.get(head)
        if isinstance(value, str):
            loader = self._loaders.get(value.partition("_")[0])
            if loader is not None:
                value = obj[head] = loader(value)
        self._expand(value, rest)
