"""The Stripe dialect as the app, the engine and the delivery worker see it."""

from __future__ import annotations

from kasse.delivery.render import Outbound
from kasse.dialects._base import Dialect
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

DIALECT = Dialect(
    name=ORIGIN,
    rules=rules.RULES,
    outbound=Outbound(notifications.render),
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
)
