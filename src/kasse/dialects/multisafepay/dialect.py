"""The MultiSafepay dialect as the app, the engine and the delivery worker see it."""

from __future__ import annotations

from kasse.delivery.render import DeliveryPolicy, Outbound
from kasse.dialects._base import Dialect
from kasse.dialects.multisafepay import catalog, notifications, pages, provider_events, redirects, routes, rules

__all__ = ["DIALECT"]

DIALECT = Dialect(
    name=routes.ORIGIN,
    rules=rules.RULES,
    outbound=Outbound(
        notifications.render,
        DeliveryPolicy(acknowledged=notifications.acknowledged, retry_schedule_s=notifications.RETRY_SCHEDULE_S),
    ),
    return_url=redirects.msp_return_url,
    routers=(catalog.router, routes.router),  # the catalog first: routes ends with its catch-all
    pages=(pages.router,),
    derive_events=provider_events.derive,
)
