"""The secuconnect dialect as the app, the engine and the delivery worker see it."""

from __future__ import annotations

from kasse.delivery.render import DeliveryPolicy, Outbound
from kasse.dialects._base import Dialect, FrontDoor
from kasse.dialects.secuconnect import checkout, notifications, pages, provider_events, redirects, routes, rules

__all__ = ["DIALECT"]

FRONT_DOOR = FrontDoor(
    title="secuconnect Smart Transactions (Sofort)",
    path="/secuconnect",
    credentials=(("client_id", "secuconnect_client_id"), ("client_secret", "secuconnect_client_secret")),
    snippet="""curl -s -X POST $base/secuconnect/oauth/token -d grant_type=client_credentials \\
  -d client_id=$secuconnect_client_id -d client_secret=$secuconnect_client_secret""",
    doc="docs/secuconnect.md",
)

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
    front_door=FRONT_DOOR,
)
