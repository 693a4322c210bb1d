"""Webhook endpoint use cases: register, change, disable, delete, rotate the signing secret, and
replay a delivery (the attempt itself is the delivery worker's)."""

from __future__ import annotations

from dataclasses import dataclass

from kasse.domain.errors import NotFound
from kasse.domain.webhooks import Delivery, EndpointStatus, WebhookEndpoint, new_secret
from kasse.engine.targets import CheckedUrl
from kasse.engine.unit import Tx

__all__ = [
    "EndpointChange",
    "create_endpoint",
    "delete_endpoint",
    "get_endpoint",
    "notification_endpoint",
    "rotate_secret",
    "update_endpoint",
]


@dataclass(frozen=True)
class EndpointChange:
    url: CheckedUrl | None = None
    enabled_events: list[str] | None = None
    description: str | None = None
    disabled: bool | None = None
    secret: str | None = None  # a signing key the dialect's own API manages (Klarna's signing keys)


def create_endpoint(
    tx: Tx, *, url: CheckedUrl, enabled_events: list[str], description: str | None, dialect: str,
    secret: str | None = None,
) -> WebhookEndpoint:  # fmt: skip
    """``url`` has passed the target policy (``TargetGuard.vet``), before the transaction: resolving a
    name must not hold it open. ``secret``: the dialect's own signing key (Klarna), else a new one."""
    endpoint = WebhookEndpoint(
        id=tx.new_id("webhook_endpoint"), merchant_id=tx.merchant_id, dialect=dialect, url=url,
        secret=secret or new_secret(), status=EndpointStatus.ENABLED, created_at=tx.now, updated_at=tx.now,
        enabled_events=enabled_events, description=description,
    )  # fmt: skip
    tx.store.insert_endpoint(endpoint)
    return endpoint


def get_endpoint(tx: Tx, endpoint_id: str) -> WebhookEndpoint:
    endpoint = tx.store.get_endpoint(merchant_id=tx.merchant_id, endpoint_id=endpoint_id, for_update=True)
    if endpoint is None:
        raise NotFound("webhook endpoint", endpoint_id, param="id")
    return endpoint


def update_endpoint(tx: Tx, endpoint_id: str, change: EndpointChange) -> WebhookEndpoint:
    endpoint = get_endpoint(tx, endpoint_id)
    if change.url is not None:
        endpoint.url = change.url
    if change.enabled_events is not None:
        endpoint.enabled_events = change.enabled_events
    if change.description is not None:
        endpoint.description = change.description
    if change.secret is not None:
        endpoint.secret = change.secret
    if change.disabled is True and endpoint.status is EndpointStatus.ENABLED:
        endpoint.status, endpoint.disabled_reason = EndpointStatus.DISABLED, "by_merchant"
        tx.store.skip_pending_deliveries(merchant_id=tx.merchant_id, endpoint_id=endpoint.id, now=tx.now)
    elif change.disabled is False and endpoint.status is EndpointStatus.DISABLED:
        endpoint.status, endpoint.disabled_reason, endpoint.failing_since = EndpointStatus.ENABLED, None, None
    endpoint.updated_at = tx.now
    tx.store.update_endpoint(endpoint)
    return endpoint


def rotate_secret(tx: Tx, endpoint_id: str) -> WebhookEndpoint:
    endpoint = get_endpoint(tx, endpoint_id)
    endpoint.secret, endpoint.updated_at = new_secret(), tx.now
    tx.store.update_endpoint(endpoint)
    return endpoint


def delete_endpoint(tx: Tx, endpoint_id: str) -> None:
    if not tx.store.delete_endpoint(merchant_id=tx.merchant_id, endpoint_id=endpoint_id):
        raise NotFound("webhook endpoint", endpoint_id, param="id")


def get_delivery(tx: Tx, delivery_id: str) -> Delivery:
    delivery = tx.store.get_delivery(merchant_id=tx.merchant_id, delivery_id=delivery_id, for_update=True)
    if delivery is None:
        raise NotFound("delivery", delivery_id, param="id")
    return delivery


def notification_endpoint(tx: Tx, *, dialect: str, url: CheckedUrl, secret: str) -> WebhookEndpoint:
    """The endpoint behind a notification URL that a payment names itself (MultiSafepay
    ``notification_url``): one per URL and dialect, found or created in the payment's own unit of work.
    It subscribes to the derived events addressed to it alone (``order.<endpoint id>``), so only the
    payments that name its URL notify it; ``secret`` is what the dialect signs with."""
    for endpoint in tx.store.enabled_endpoints(merchant_id=tx.merchant_id):
        if endpoint.dialect == dialect and endpoint.url == url and endpoint.secret == secret:
            return endpoint
    endpoint = create_endpoint(
        tx, url=url, enabled_events=[], description="notification URL of payments", dialect=dialect
    )
    endpoint.enabled_events = [f"order.{endpoint.id}"]
    endpoint.secret = secret
    tx.store.update_endpoint(endpoint)
    return endpoint
