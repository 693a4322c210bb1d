"""Every dialect Kasse speaks, listed once, by hand. A new provider is one folder with a ``dialect.py``
and one line here (docs/dialects.md)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from kasse.delivery.render import Outbound
from kasse.dialects._base import Dialect
from kasse.dialects.klarna.dialect import DIALECT as KLARNA
from kasse.dialects.multisafepay.dialect import DIALECT as MULTISAFEPAY
from kasse.dialects.native.dialect import DIALECT as NATIVE
from kasse.dialects.payone.dialect import DIALECT as PAYONE
from kasse.dialects.secuconnect.dialect import DIALECT as SECUCONNECT
from kasse.dialects.stripe.dialect import DIALECT as STRIPE
from kasse.engine.unit import Hooks, TimerHandler

__all__ = ["DIALECTS", "hooks", "outbound"]

DIALECTS: Mapping[str, Dialect] = MappingProxyType(
    {d.name: d for d in (NATIVE, STRIPE, MULTISAFEPAY, SECUCONNECT, KLARNA, PAYONE)}
)


def hooks(dialects: Mapping[str, Dialect] = DIALECTS) -> Hooks:
    """What the engine (``Kasse``) needs of the dialects: each origin's rules, who derives events of its
    own, and the timer kinds they bring (a kind belongs to one dialect)."""
    handlers: dict[str, TimerHandler] = {}
    for dialect in dialects.values():
        for kind, handler in dialect.timer_handlers.items():
            if kind in handlers:
                raise ValueError(f"timer kind {kind!r} is brought by two dialects")
            handlers[kind] = handler
    return Hooks(
        rules=MappingProxyType({n: d.rules for n, d in dialects.items()}),
        derivers=MappingProxyType({n: d.derive_events for n, d in dialects.items() if d.derive_events is not None}),
        timer_handlers=MappingProxyType(handlers),
    )


def outbound(dialects: Mapping[str, Dialect] = DIALECTS) -> Mapping[str, Outbound]:
    """What the delivery worker needs of the dialects."""
    return MappingProxyType({n: d.outbound for n, d in dialects.items()})
