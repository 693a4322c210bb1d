"""external ids

A provider's ids of engine objects, unique per merchant, dialect and kind. MultiSafepay's existing orders
are filled in: each order's ``order_id`` and the transaction ids of its payment and refunds.

Revision ID: 0004
Revises: 0003
"""

import hashlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "external_ids",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("dialect", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_external_ids_merchant_id_merchants"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "merchant_id",
            "dialect",
            "kind",
            "external_id",
            name=op.f("uq_external_ids_merchant_id_dialect_kind_external_id"),
        ),
    )
    with op.batch_alter_table("external_ids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_external_ids_merchant_id_object_id"), ["merchant_id", "object_id"])
    assert table is not None
    _backfill_multisafepay(table)


def _transaction_id(object_id: str) -> str:
    """A frozen copy of ``kasse.dialects.multisafepay.translate.transaction_id`` (a migration does not
    import the code it migrates)."""
    return str(int(hashlib.sha256(object_id.encode()).hexdigest()[:12], 16) % 9_000_000_000 + 1_000_000_000)


_PAYMENTS = sa.table(
    "payments", sa.column("id"), sa.column("merchant_id"), sa.column("origin"), sa.column("reference"),
    sa.column("created_at"),
)  # fmt: skip
_REFUNDS = sa.table(
    "refunds", sa.column("id"), sa.column("merchant_id"), sa.column("payment_id"), sa.column("created_at")
)


def _backfill_multisafepay(table: sa.Table) -> None:
    conn = op.get_bind()
    found: dict[tuple[object, str, str], dict[str, object]] = {}

    def add(row: Any, kind: str, external_id: str, object_type: str) -> None:
        key = (row["merchant_id"], kind, external_id)  # a transaction id's hash collision: the first keeps it
        found.setdefault(key, {
            "merchant_id": row["merchant_id"], "dialect": "multisafepay", "kind": kind, "external_id": external_id,
            "object_type": object_type, "object_id": row["id"], "created_at": row["created_at"],
        })  # fmt: skip

    owned = sa.select(_PAYMENTS.c.id).where(_PAYMENTS.c.origin == "multisafepay")
    for p in conn.execute(sa.select(_PAYMENTS).where(_PAYMENTS.c.origin == "multisafepay").order_by("id")).mappings():
        if p["reference"] is not None:
            add(p, "order_id", p["reference"], "payment")
        add(p, "transaction_id", _transaction_id(p["id"]), "payment")
    for r in conn.execute(sa.select(_REFUNDS).where(_REFUNDS.c.payment_id.in_(owned)).order_by("id")).mappings():
        add(r, "transaction_id", _transaction_id(r["id"]), "refund")
    if found:
        op.bulk_insert(table, list(found.values()))


def downgrade() -> None:
    with op.batch_alter_table("external_ids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_external_ids_merchant_id_object_id"))
    op.drop_table("external_ids")
