"""The native dialect as the app, the engine and the delivery worker see it."""

from __future__ import annotations

from kasse.delivery.render import Outbound
from kasse.dialects._base import Dialect, FrontDoor
from kasse.dialects.native import merchant, notifications, redirects, routes, rules, stream, webhooks
from kasse.dialects.native.origin import ORIGIN

__all__ = ["DIALECT"]

FRONT_DOOR = FrontDoor(
    title="Native REST API",
    path="/api/v1",
    credentials=(("secret key", "secret_key"), ("publishable key", "publishable_key")),
    snippet="""curl -s $base/api/v1/payments \\
  -H 'Authorization: Bearer $secret_key' -H 'Content-Type: application/json' \\
  -d '{"amount": 2500, "currency": "EUR", "method": "sofort", "country": "DE",
       "return_url": "http://127.0.0.1:9000/return"}'""",
    doc="README.md",
)

DIALECT = Dialect(
    name=ORIGIN,
    rules=rules.RULES,
    outbound=Outbound(notifications.render, body=notifications.body, signer=notifications.sign),
    return_url=redirects.native_return_url,
    # The stream first: /events/stream, not /events/{event_id}.
    routers=(stream.router, routes.router, webhooks.router, merchant.router),
    front_door=FRONT_DOOR,
)
