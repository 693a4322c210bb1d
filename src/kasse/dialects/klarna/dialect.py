"""The Klarna dialect as the app, the engine and the delivery worker see it."""

from __future__ import annotations

from kasse.delivery.render import DeliveryPolicy, Outbound
from kasse.dialects._base import Dialect, FrontDoor
from kasse.dialects.klarna import (
    notifications,
    pages,
    provider_events,
    redirects,
    requests,
    routes,
    rules,
    sandbox,
    transaction_routes,
    webhooks,
)
from kasse.dialects.klarna.model import DIALECT as NAME

__all__ = ["DIALECT"]

FRONT_DOOR = FrontDoor(
    title="Klarna Payment Authorize API",
    path="/klarna/v2",
    credentials=(("partner_account_id", "klarna_partner_account_id"), ("api_key", "klarna_api_key")),
    snippet="""curl -s $base/klarna/v2/accounts/$klarna_partner_account_id/payment/authorize \\
  -H 'Authorization: Basic $klarna_api_key' -H 'Content-Type: application/json' \\
  -d '{"currency": "EUR",
       "request_payment_transaction": {"amount": 2500, "payment_transaction_reference": "order-1"},
       "step_up_config": {"payment_request_reference": "order-1", "customer_interaction_config": {
         "method": "HANDOVER", "return_url": "http://127.0.0.1:9000/back?token={klarna.payment_request.payment_token}"}}}'
# → STEP_UP_REQUIRED and payment_request.state_context.customer_interaction.payment_request_url""",
    doc="docs/klarna.md",
)

DIALECT = Dialect(
    name=NAME,
    rules=rules.RULES,
    outbound=Outbound(
        notifications.render,
        DeliveryPolicy(acknowledged=notifications.acknowledged, retry_schedule_s=notifications.RETRY_SCHEDULE_S),
    ),
    return_url=redirects.payment_return_url,
    routers=(routes.router, transaction_routes.router, webhooks.router, sandbox.router, routes.fallback),
    pages=(pages.router,),
    derive_events=provider_events.derive,
    timer_handlers={
        requests.EXPIRY_TIMER: requests.expire,
        provider_events.CLOSE_TIMER: provider_events.close_transaction,
    },
    front_door=FRONT_DOOR,
)
