"""The PAYONE dialect as the app, the engine and the delivery worker see it."""

from __future__ import annotations

from kasse.delivery.render import DeliveryPolicy, Outbound
from kasse.dialects._base import Dialect
from kasse.dialects.payone import notifications, provider_events, redirects, routes, rules, sessions, widget

__all__ = ["DIALECT"]

DIALECT = Dialect(
    name=routes.ORIGIN,
    rules=rules.RULES,
    outbound=Outbound(
        notifications.render,
        DeliveryPolicy(acknowledged=notifications.acknowledged, retry_schedule_s=notifications.RETRY_SCHEDULE_S),
    ),
    return_url=redirects.payone_return_url,
    routers=(routes.router, widget.router),
    derive_events=provider_events.derive,
    timer_handlers={sessions.TIMER_KIND: sessions.expire},
    settings={"transaction_status_url": "webhook_url"},
)
