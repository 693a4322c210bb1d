"""The secuconnect dialect as the app, the engine and the delivery worker see it."""

from __future__ import annotations

from kasse.delivery.render import DeliveryPolicy, Outbound
from kasse.dialects._base import Dialect
from kasse.dialects.secuconnect import checkout, notifications, pages, provider_events, redirects, routes, rules

__all__ = ["DIALECT"]

DIALECT = Dialect(
    name=checkout.ORIGIN,
    rules=rules.RULES,
    outbound=Outbound(
        notifications.render,
        DeliveryPolicy(acknowledged=notifications.acknowledged, retry_schedule_s=notifications.RETRY_SCHEDULE_S),
    ),
    return_url=redirects.secuconnect_return_url,
    routers=(routes.router,),
    pages=(pages.router,),
    derive_events=provider_events.derive,
)
