"""Tables. Every row carries ``merchant_id`` and every index starts with it, so the schema can be
distributed by tenant (Citus) without changing queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from kasse.domain.clock import utc

__all__ = [
    "captures",
    "credentials",
    "deliveries",
    "delivery_attempts",
    "events",
    "external_ids",
    "idempotency_keys",
    "klarna_payment_requests",
    "ledger_legs",
    "ledger_transfers",
    "merchants",
    "metadata",
    "payments",
    "payone_sessions",
    "refunds",
    "secuconnect_tokens",
    "stripe_endpoints",
    "timers",
    "webhook_endpoints",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)


JSONType: Any = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id(name: str = "id") -> Column[str]:
    return Column(name, String(40), primary_key=True)


def _merchant() -> Column[str]:
    return Column("merchant_id", String(40), ForeignKey("merchants.id", ondelete="CASCADE"), nullable=False)


merchants = Table(
    "merchants",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("clock_offset_us", BigInteger, nullable=False, default=0),
    Column("clock_frozen_at", UTCDateTime),
    Column("settings", JSONType, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
)

credentials = Table(
    "credentials",
    metadata,
    _id(),
    _merchant(),
    Column("kind", String(40), nullable=False),
    # What a request presents to find its merchant: a key's SHA-256, or a public identifier.
    Column("lookup", String(200), nullable=False),
    Column("secret_hash", String(128)),
    # Raw secrets only where the protocol signs with them (MultiSafepay, PAYONE); see docs/security.md.
    Column("secret", String(200)),
    Column("data", JSONType, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "lookup"),
    Index(None, "merchant_id", "kind"),
)

payments = Table(
    "payments",
    metadata,
    _id(),
    _merchant(),
    Column("origin", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(30), nullable=False),
    Column("country", String(2)),
    Column("status", String(20), nullable=False),
    Column("capture_method", String(10), nullable=False),
    Column("redirect_token", String(64), nullable=False, unique=True),
    Column("description", String(1000)),
    Column("reference", String(200)),
    Column("return_url", String(2048)),
    Column("cancel_url", String(2048)),
    Column("customer", JSONType, nullable=False),
    Column("metadata", JSONType, nullable=False),
    Column("provider_data", JSONType, nullable=False),
    Column("scenario", JSONType, nullable=False),
    Column("amount_captured_minor", BigInteger, nullable=False),
    Column("amount_settled_minor", BigInteger, nullable=False),
    Column("amount_refunded_minor", BigInteger, nullable=False),
    Column("amount_capturable_minor", BigInteger, nullable=False),
    Column("hold_transfer_id", String(40)),
    Column("authorized_at", UTCDateTime),
    Column("failure_code", String(60)),
    Column("failure_message", String(500)),
    Column("cancellation_reason", String(60)),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index(None, "merchant_id", "id"),
    Index(None, "merchant_id", "status", "id"),
    Index(None, "merchant_id", "origin", "reference"),
)

captures = Table(
    "captures",
    metadata,
    _id(),
    _merchant(),
    Column("payment_id", String(40), ForeignKey("payments.id", ondelete="CASCADE"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("final", Boolean, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("settles_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "merchant_id", "payment_id"),
)

refunds = Table(
    "refunds",
    metadata,
    _id(),
    _merchant(),
    Column("payment_id", String(40), ForeignKey("payments.id", ondelete="CASCADE"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", String(200)),
    Column("metadata", JSONType, nullable=False),
    Column("deferred", Boolean, nullable=False),
    Column("hold_transfer_id", String(40)),
    Column("failure_reason", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # A payment's refunds in id order from one index: with only (merchant_id, id) to order by, SQLite's
    # planner (no statistics) walked every refund of the merchant for each charge it rendered.
    Index(None, "merchant_id", "payment_id", "id"),
    Index(None, "merchant_id", "id"),
)

ledger_transfers = Table(
    "ledger_transfers",
    metadata,
    _id(),
    _merchant(),
    Column("currency", String(3), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("code", String(40), nullable=False),
    # A pending transfer is resolved once: the database refuses a second post or void.
    Column("pending_id", String(40), unique=True),
    Column("payment_id", String(40)),
    Column("refund_id", String(40)),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "merchant_id", "id"),
    Index(None, "merchant_id", "payment_id", "id"),  # a payment's transfers, newest first (as refunds)
)

ledger_legs = Table(
    "ledger_legs",
    metadata,
    Column("transfer_id", String(40), ForeignKey("ledger_transfers.id", ondelete="CASCADE"), nullable=False),
    Column("leg", Integer, nullable=False),
    _merchant(),
    Column("currency", String(3), nullable=False),
    Column("account", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("moves_money", Boolean, nullable=False),
    Index(None, "merchant_id", "currency", "account"),
    Index(None, "transfer_id"),
    Index(None, "merchant_id", "transfer_id"),  # the legs of some transfers, not the merchant's every leg
)

events = Table(
    "events",
    metadata,
    _id(),
    _merchant(),
    Column("type", String(60), nullable=False),
    Column("object_type", String(20), nullable=False),
    Column("object_id", String(40), nullable=False),
    Column("payment_id", String(40)),
    Column("data", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "merchant_id", "id"),
    Index(None, "merchant_id", "type", "id"),
)

timers = Table(
    "timers",
    metadata,
    _id(),
    _merchant(),
    Column("kind", String(40), nullable=False),
    Column("subject_id", String(40), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("fired_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "merchant_id", "fired_at", "due_at"),
    Index(None, "fired_at", "due_at"),
)

# A provider's own ids of engine objects (MultiSafepay order_id and transaction ids, later PAYONE txid,
# secuconnect STX_, Klarna krn:): unique per merchant, dialect and kind, so a duplicate is refused by the
# database, in the unit of work that tried it.
external_ids = Table(
    "external_ids",
    metadata,
    _merchant(),
    Column("dialect", String(20), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("object_type", String(20), nullable=False),
    Column("object_id", String(40), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("merchant_id", "dialect", "kind", "external_id"),
    Index(None, "merchant_id", "object_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    _merchant(),
    Column("scope", String(20), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("response_status", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("response_headers", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("merchant_id", "scope", "key"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    _id(),
    _merchant(),
    # The dialect whose notification format this endpoint receives (native: Standard Webhooks).
    Column("dialect", String(20), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("enabled_events", JSONType, nullable=False),
    Column("description", String(500)),
    # Signing secrets are kept in the clear: signing needs them (docs/security.md).
    Column("secret", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("disabled_reason", String(60)),
    Column("failing_since", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "merchant_id", "id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    _id(),
    _merchant(),
    Column("event_id", String(40), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint_id", String(40), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    # When the next attempt is due, on the merchant's clock; NULL once the delivery is final.
    Column("next_attempt_at", UTCDateTime),
    # A worker's lease (wall time): while it runs, no other worker sends this delivery.
    Column("leased_until", UTCDateTime),
    # Who holds the lease: a worker sends only while its token is still the one stored.
    Column("lease_token", String(40)),
    Column("last_response_status", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "merchant_id", "event_id"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "merchant_id", "endpoint_id", "id"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    _id(),
    _merchant(),
    Column("delivery_id", String(40), ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("trigger", String(20), nullable=False),  # schedule | manual | clock
    Column("url", String(2048), nullable=False),
    Column("request_headers", JSONType, nullable=False),
    Column("request_body", Text, nullable=False),
    Column("response_status", Integer),
    Column("response_body", Text),
    Column("latency_ms", Integer),
    Column("error", String(500)),
    Column("succeeded", Boolean, nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Index(None, "merchant_id", "delivery_id", "number"),
)

# secuconnect's OAuth access tokens (client_credentials): the dialect's own objects. The token itself is
# not kept, only its SHA-256 (what a request presents is hashed and looked up, like a secret key); it
# lapses at ``expires_at`` on the merchant's clock, checked on every use.
secuconnect_tokens = Table(
    "secuconnect_tokens",
    metadata,
    _merchant(),
    Column("token_hash", String(64), nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    # The one global lookup of this table (a token is what identifies its merchant), as for credentials.
    UniqueConstraint("token_hash"),
    Index(None, "merchant_id", "expires_at"),
)

# Klarna's payment requests (the Klarna dialect's own objects, not payments): what the partner asked
# for, where the customer is in Klarna's purchase journey, and the tokens the approval issued. The engine
# payment (the payment transaction) exists only once a token is authorized.
klarna_payment_requests = Table(
    "klarna_payment_requests",
    metadata,
    _id(),
    _merchant(),
    Column("state", String(20), nullable=False),
    Column("previous_state", String(20)),
    Column("state_reason", String(40)),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger),
    Column("reference", String(255)),
    Column("account_id", String(255), nullable=False),
    Column("body", JSONType, nullable=False),  # the request in v2 field names
    Column("customer", JSONType, nullable=False),  # the customer as the approval left it
    # The approval page's bearer token (unguessable, global like a payment's redirect token).
    Column("page_token", String(64), nullable=False, unique=True),
    Column("session_token", String(255)),
    Column("payment_token", String(255)),
    Column("customer_token", String(255)),
    Column("token_expires_at", UTCDateTime),
    Column("payment_id", String(40)),  # the engine payment its token was authorized into
    Column("authorization", Text),  # the authorize answer, replayed for the same token
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "merchant_id", "id"),
)

# PAYONE's Klarna sessions (``genericpayment`` start_session): the dialect's own objects, not payments.
# ``id`` is the session's ``workorderid``; the widget finds a session by the merchant and session id its
# client token names, a ``cancel_authorization`` by the authorization token the widget gave out.
payone_sessions = Table(
    "payone_sessions",
    metadata,
    _id(),
    _merchant(),
    Column("session_id", String(36), nullable=False),
    Column("client_token", Text, nullable=False),
    Column("authorization_token", String(64)),
    Column("status", String(20), nullable=False),  # open | authorized | canceled | expired
    Column("financingtype", String(3), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("country", String(2), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("customer", JSONType, nullable=False),
    Column("cart", JSONType, nullable=False),
    Column("payment_id", String(40)),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "merchant_id", "session_id"),
    Index(None, "merchant_id", "authorization_token"),
)

# What a Stripe webhook endpoint keeps beyond the shared endpoint: the API version its events are
# rendered for and its metadata (the Stripe dialect's own fields; the row goes with its endpoint).
stripe_endpoints = Table(
    "stripe_endpoints",
    metadata,
    Column("id", String(40), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), primary_key=True),
    _merchant(),
    Column("api_version", String(40)),
    Column("metadata", JSONType, nullable=False),
)
