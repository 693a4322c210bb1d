"""The PAYONE dialect as the app, the engine and the delivery worker see it."""

from __future__ import annotations

from kasse.delivery.render import DeliveryPolicy, Outbound
from kasse.dialects._base import Dialect, FrontDoor
from kasse.dialects.payone import notifications, provider_events, redirects, routes, rules, sessions, widget

__all__ = ["DIALECT"]

FRONT_DOOR = FrontDoor(
    title="PAYONE Server API (Klarna, Sofort)",
    path="/payone/post-gateway/",
    credentials=(("mid", "payone_mid"), ("aid", "payone_aid"), ("portalid", "payone_portalid"), ("key", "payone_key")),
    snippet="""curl -s $base/payone/post-gateway/ -d request=authorization -d clearingtype=sb \\
  -d onlinebanktransfertype=PNT -d mid=$payone_mid -d aid=$payone_aid -d portalid=$payone_portalid \\
  -d key=$payone_key -d mode=test -d amount=2500 -d currency=EUR -d country=DE -d bankcountry=DE -d lastname=Doe \\
  -d reference=order1 -d successurl=http://127.0.0.1:9000/ok -d errorurl=http://127.0.0.1:9000/err \\
  -d backurl=http://127.0.0.1:9000/back""",
    doc="docs/payone.md",
)

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
    front_door=FRONT_DOOR,
)
