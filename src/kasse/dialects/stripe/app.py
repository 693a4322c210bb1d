"""What the ASGI app mounts for the Stripe dialect, and the hooks it registers (the hosted page's return
URL, the webhook renderer, the derived events)."""

from __future__ import annotations

from fastapi import APIRouter

from kasse.dialects.stripe import notifications, provider_events, redirects
from kasse.dialects.stripe.ledger import router as ledger_router
from kasse.dialects.stripe.routes import router as objects_router
from kasse.dialects.stripe.webhooks import router as events_router
from kasse.dialects.stripe.webhooks import sandbox_router

__all__ = ["routers"]

_ = (notifications, provider_events)  # imported for their registrations


def routers() -> list[APIRouter]:
    redirects.register()
    return [objects_router, events_router, ledger_router, sandbox_router]
