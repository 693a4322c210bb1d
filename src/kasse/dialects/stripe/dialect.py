"""The Stripe dialect as the app, the engine and the delivery worker see it."""

from __future__ import annotations

from kasse.delivery.render import Outbound
from kasse.dialects._base import Dialect, FrontDoor
from kasse.dialects.stripe import (
    endpoints,
    fallback,
    ledger,
    notifications,
    provider_events,
    receipts,
    redirects,
    refunds,
    routes,
    rules,
    webhooks,
)
from kasse.dialects.stripe.loaders import ORIGIN

__all__ = ["DIALECT"]

FRONT_DOOR = FrontDoor(
    title="Stripe Sources (Sofort)",
    path="/stripe/v1",
    credentials=(("api_key", "secret_key"),),
    snippet="""import stripe

stripe.api_key = "$secret_key"
stripe.api_base = "$base/stripe"  # the only change
source = stripe.Source.create(type="sofort", amount=1099, currency="eur",
                              redirect={"return_url": "http://127.0.0.1:9000/return"}, sofort={"country": "DE"})
print(source.redirect.url)""",
    doc="docs/stripe.md",
    snippet_language="python",
)

DIALECT = Dialect(
    name=ORIGIN,
    rules=rules.RULES,
    outbound=Outbound(notifications.render, body=notifications.body, signer=notifications.sign),
    return_url=redirects.stripe_return_url,
    # The fallback last: it answers what no other Stripe route matched.
    routers=(
        routes.router,
        refunds.router,
        endpoints.router,
        webhooks.router,
        ledger.router,
        webhooks.sandbox_router,
        receipts.router,
        fallback.router,
    ),
    derive_events=provider_events.derive,
    front_door=FRONT_DOOR,
)
