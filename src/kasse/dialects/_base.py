"""The contract every dialect fulfils: one frozen ``Dialect`` value per provider folder, listed once in
``kasse.dialects.registry.DIALECTS``. The app mounts its routers, the engine derives its events, the
delivery worker renders its notifications and the hosted pages send its customers back, each by
looking the dialect up by name in the mapping they were given (never by importing it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fastapi import APIRouter

from kasse.delivery.render import Outbound
from kasse.domain.models import Payment
from kasse.domain.rules import ProviderRules
from kasse.domain.urls import safe_http_url
from kasse.engine.unit import EventDeriver, TimerHandler

__all__ = ["Dialect", "ReturnUrl", "return_url_for"]

# (payment, outcome) → where the hosted page sends the customer; outcome is the payment status after
# the customer acted ("authorized", "processing", "failed", "canceled", ...).
ReturnUrl = Callable[[Payment, str], str | None]


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str  # the payments' ``origin`` and the webhook endpoints' ``dialect``
    rules: ProviderRules  # what the provider allows and how its money moves, read by the engine
    outbound: Outbound  # how its notifications are rendered, acknowledged and retried
    return_url: ReturnUrl  # where the hosted bank page sends its customers back to
    routers: tuple[APIRouter, ...] = ()  # its API, under its own mount path
    pages: tuple[APIRouter, ...] = ()  # hosted pages of its own (MultiSafepay's payment page)
    derive_events: EventDeriver | None = None  # its own events from the engine's (Stripe's, MSP's)
    timer_handlers: Mapping[str, TimerHandler] = field(default_factory=dict)  # its own deadlines' kinds
    # Merchant settings it reads, set with ``PATCH /api/v1/merchant {"<name>": {...}}``: setting → kind
    # (``webhook_url``: a URL that must pass the webhook target policy). PAYONE's TransactionStatus URL.
    settings: Mapping[str, str] = field(default_factory=dict)


def return_url_for(dialects: Mapping[str, Dialect], payment: Payment, outcome: str) -> str | None:
    """The shop URL the customer of ``payment`` goes back to after ``outcome`` (None: stay on Kasse).
    Never anything but an http(s) URL, even from a row stored before the check at creation existed: the
    hosted pages then show their own result page instead of redirecting."""
    dialect = dialects.get(payment.origin)
    if dialect is not None:
        return safe_http_url(dialect.return_url(payment, outcome))
    if outcome == "canceled":
        return safe_http_url(payment.cancel_url or payment.return_url)
    return safe_http_url(payment.return_url)
