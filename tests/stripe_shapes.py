"""Every object Kasse's Stripe dialect answers, checked against stripe-python 16.1.0's own declarations
(the resource classes' annotations, generated from Stripe's OpenAPI spec): each non-Optional field is
present with its declared type, an Optional field may be null (or absent, as Stripe omits some), and no
field is undeclared. ``Literal`` enumerations are checked; ``Union[Literal[…], str]`` accepts any string
(the SDK's way of saying "more values may come")."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import types
import typing
from functools import cache
from typing import Any

import stripe
from stripe._stripe_object import StripeObject

__all__ = ["RESOURCES", "check", "check_answer"]

RESOURCES: dict[str, type[StripeObject]] = {
    "source": stripe.Source,
    "charge": stripe.Charge,
    "refund": stripe.Refund,
    "event": stripe.Event,
    "balance_transaction": stripe.BalanceTransaction,
    "balance": stripe.Balance,
    "webhook_endpoint": stripe.WebhookEndpoint,
}


@cache
def _namespace(module_name: str) -> dict[str, Any]:
    """The module's globals plus what it imports only under ``TYPE_CHECKING`` (its forward references)."""
    module = sys.modules[module_name]
    names: dict[str, Any] = dict(vars(module))
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    imported = importlib.import_module(statement.module)
                    for alias in statement.names:
                        names[alias.asname or alias.name] = getattr(imported, alias.name)
    return names


@cache
def hints(cls: type) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if issubclass(klass, StripeObject) and klass.__module__.startswith("stripe"):
            own = inspect.get_annotations(klass)
            names = _namespace(klass.__module__)
            local = {k: v for k, v in vars(klass).items() if isinstance(v, type)}
            for name, annotation in own.items():
                if name.isupper() or name.startswith("_"):
                    continue
                found[name] = _eval(annotation, names, {**local, **_outer_classes(klass)})
    return found


def _outer_classes(klass: type) -> dict[str, Any]:
    """Nested classes refer to their siblings by bare name (``Charge.Outcome.Rule``)."""
    out: dict[str, Any] = {}
    parts = klass.__qualname__.split(".")
    module = sys.modules[klass.__module__]
    obj: Any = module
    for part in parts:
        obj = getattr(obj, part)
        out.update({k: v for k, v in vars(obj).items() if isinstance(v, type)})
    return out


def _eval(annotation: Any, globalns: dict[str, Any], localns: dict[str, Any]) -> Any:
    if isinstance(annotation, str):
        annotation = typing.ForwardRef(annotation)
    return typing._eval_type(annotation, globalns, localns)  # type: ignore[attr-defined]


def _optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def check(value: Any, tp: Any, path: str) -> list[str]:
    """The problems of ``value`` against the declared type ``tp`` (empty: it conforms)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any or tp is object:
        return []
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return [] if type(None) in args else [f"{path}: null, declared {tp}"]
        options = [a for a in args if a is not type(None)]
        if any(a is str for a in options) and isinstance(value, str):
            return []
        tried = [check(value, a, path) for a in options]
        if any(not t for t in tried):
            return []
        typed = [t for a, t in zip(options, tried, strict=True) if _object_name(a) == _name_of(value)]
        return typed[0] if typed else min(tried, key=len)
    if value is None:
        return [f"{path}: null, declared non-nullable {tp}"]
    if origin is typing.Literal:
        return [] if value in args else [f"{path}: {value!r} not one of {args}"]
    if tp is str:
        return [] if isinstance(value, str) else [f"{path}: {value!r} is not a string"]
    if tp is bool:
        return [] if isinstance(value, bool) else [f"{path}: {value!r} is not a boolean"]
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not an integer"]
    if tp is float:
        return [] if isinstance(value, int | float) else [f"{path}: {value!r} is not a number"]
    if origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [p for i, v in enumerate(value) for p in check(v, args[0], f"{path}[{i}]")]
    if origin in (dict, typing.Dict):  # noqa: UP006
        if not isinstance(value, dict):
            return [f"{path}: not a hash"]
        return [p for k, v in value.items() for p in check(v, args[1], f"{path}.{k}")]
    return _check_object(value, origin or tp, args, path)


def _object_name(tp: Any) -> str | None:
    name = getattr(tp, "OBJECT_NAME", None)
    return name if isinstance(name, str) else None


def _name_of(value: Any) -> str | None:
    return value.get("object") if isinstance(value, dict) else None


def _check_object(value: Any, cls: Any, args: tuple[Any, ...], path: str) -> list[str]:
    if not (isinstance(cls, type) and issubclass(cls, StripeObject)):
        return [f"{path}: cannot check declared type {cls}"]
    if not isinstance(value, dict):
        return [f"{path}: {value!r} is not an object ({cls.__name__})"]
    if cls.__name__ == "UntypedStripeObject":
        return [p for k, v in value.items() for p in check(v, args[0] if args else Any, f"{path}.{k}")]
    if cls.__name__ == "ListObject":
        problems = [f"{path}: a list's object is {value.get('object')!r}"] if value.get("object") != "list" else []
        extra = set(value) - {"object", "data", "has_more", "url", "total_count"}
        problems += [f"{path}.{k}: undeclared" for k in sorted(extra)]
        problems += check(value.get("has_more"), bool, f"{path}.has_more") + check(value.get("url"), str, f"{path}.url")
        return problems + check(value.get("data"), list[args[0]] if args else list[Any], f"{path}.data")
    declared = hints(cls)
    problems = [f"{path}.{k}: undeclared in {cls.__qualname__}" for k in sorted(set(value) - set(declared))]
    for name, tp in declared.items():
        if name not in value:
            if not _optional(tp):
                problems.append(f"{path}.{name}: missing (declared {tp})")
            continue
        problems += check(value[name], tp, f"{path}.{name}")
    return problems


def check_answer(body: Any, path: str = "$") -> list[str]:
    """An answer of the API or a webhook body: a list, or one object named by its ``object``."""
    if isinstance(body, dict) and body.get("object") == "list":
        return [p for i, item in enumerate(body.get("data", [])) for p in check_answer(item, f"{path}.data[{i}]")]
    name = _name_of(body)
    if name not in RESOURCES:
        return [f"{path}: unknown object {name!r}"]
    if body.get("deleted") is True:  # Stripe's answer to a DELETE: the id, the object, deleted
        extra = set(body) - {"id", "object", "deleted"}
        return [f"{path}.{k}: undeclared in a deleted object" for k in sorted(extra)] + check(body["id"], str, path)
    problems = _check_object(body, RESOURCES[name], (), path)
    if name == "event" and isinstance(body.get("data"), dict):
        problems += check_answer(body["data"].get("object"), f"{path}.data.object")
    return problems
