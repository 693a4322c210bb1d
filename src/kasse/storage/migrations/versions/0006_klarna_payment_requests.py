"""klarna payment requests

The Klarna dialect's payment requests: the partner's request, its state in Klarna's purchase journey,
the tokens the customer's approval issued and the authorize answer replayed for them.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "klarna_payment_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("previous_state", sa.String(length=20), nullable=True),
        sa.Column("state_reason", sa.String(length=40), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("body", _JSON, nullable=False),
        sa.Column("customer", _JSON, nullable=False),
        sa.Column("page_token", sa.String(length=64), nullable=False),
        sa.Column("session_token", sa.String(length=255), nullable=True),
        sa.Column("payment_token", sa.String(length=255), nullable=True),
        sa.Column("customer_token", sa.String(length=255), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("authorization", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_klarna_payment_requests_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_klarna_payment_requests")),
        sa.UniqueConstraint("page_token", name=op.f("uq_klarna_payment_requests_page_token")),
    )
    with op.batch_alter_table("klarna_payment_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_klarna_payment_requests_merchant_id_id"), ["merchant_id", "id"])


def downgrade() -> None:
    with op.batch_alter_table("klarna_payment_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_klarna_payment_requests_merchant_id_id"))
    op.drop_table("klarna_payment_requests")
