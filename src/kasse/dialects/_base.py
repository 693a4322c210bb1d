"""The contract every dialect fulfils: one frozen ``Dialect`` value per provider folder, listed once in
``kasse.dialects.registry.DIALECTS``. The app mounts its routers, the engine derives its events, the
delivery worker renders its notifications and the hosted pages send its customers back, each by
looking the dialect up by name in the mapping they were given (never by importing it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from string import Template
from typing import Any

from fastapi import APIRouter

from kasse.delivery.render import Outbound
from kasse.domain.models import Payment
from kasse.domain.rules import ProviderRules
from kasse.domain.urls import safe_http_url
from kasse.engine.unit import EventDeriver, TimerHandler

__all__ = ["Dialect", "FrontDoor", "ReturnUrl", "flat_credentials", "return_url_for"]

# (payment, outcome) → where the hosted page sends the customer; outcome is the payment status after
# the customer acted ("authorized", "processing", "failed", "canceled", ...).
ReturnUrl = Callable[[Payment, str], str | None]


def flat_credentials(credentials: Mapping[str, Any]) -> dict[str, str]:
    """A merchant's credentials (``Credentials.as_dict()``'s shape) as flat names for snippets:
    ``secret_key``, ``multisafepay_api_key``, ``payone_portalid``, ..."""
    flat: dict[str, str] = {}
    for key, value in credentials.items():
        if isinstance(value, Mapping):
            flat.update({f"{key}_{sub}": str(item) for sub, item in value.items()})
        else:
            flat[key] = str(value)
    return flat


@dataclass(frozen=True, slots=True)
class FrontDoor:
    """How a dialect introduces itself to a new user: the banner of ``kasse serve``, the home page and
    the dashboard's credentials page are made from these, so only what is mounted is ever advertised."""

    title: str  # "Stripe Sources (Sofort)"
    path: str  # its base path on Kasse: "/stripe/v1"
    credentials: tuple[tuple[str, str], ...]  # (label, flat credential name: "multisafepay_api_key")
    snippet: str  # a copy-ready first request; ``$base`` (Kasse's URL) and ``$<credential>`` are filled in
    doc: str  # where to read on, relative to the repository: "docs/stripe.md"
    snippet_language: str = "sh"

    def values(self, credentials: Mapping[str, Any]) -> list[tuple[str, str]]:
        flat = flat_credentials(credentials)
        return [(label, flat.get(name, "")) for label, name in self.credentials]

    def render_snippet(self, base_url: str, credentials: Mapping[str, Any]) -> str:
        return Template(self.snippet).safe_substitute(base=base_url.rstrip("/"), **flat_credentials(credentials))


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
    front_door: FrontDoor | None = None  # what the banner, the home page and the dashboard show of it


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
