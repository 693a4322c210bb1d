"""The native dialect as the app, the engine and the delivery worker see it."""

from __future__ import annotations

from kasse.delivery.render import Outbound
from kasse.dialects._base import Dialect
from kasse.dialects.native import merchant, notifications, redirects, routes, rules, stream, webhooks
from kasse.dialects.native.origin import ORIGIN

__all__ = ["DIALECT"]

DIALECT = Dialect(
    name=ORIGIN,
    rules=rules.RULES,
    outbound=Outbound(notifications.render),
    return_url=redirects.native_return_url,
    # The stream first: /events/stream, not /events/{event_id}.
    routers=(stream.router, routes.router, webhooks.router, merchant.router),
)
