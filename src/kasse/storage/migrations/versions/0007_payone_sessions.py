"""payone sessions

PAYONE's Klarna sessions (``genericpayment`` start_session / update_session / cancel_authorization),
the PAYONE dialect's own objects.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "payone_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("client_token", sa.Text(), nullable=False),
        sa.Column("authorization_token", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("financingtype", sa.String(length=3), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("customer", _JSON, nullable=False),
        sa.Column("cart", _JSON, nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_payone_sessions_merchant_id_merchants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payone_sessions")),
    )
    with op.batch_alter_table("payone_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payone_sessions_merchant_id_session_id"), ["merchant_id", "session_id"])
        batch_op.create_index(
            batch_op.f("ix_payone_sessions_merchant_id_authorization_token"), ["merchant_id", "authorization_token"]
        )


def downgrade() -> None:
    with op.batch_alter_table("payone_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payone_sessions_merchant_id_authorization_token"))
        batch_op.drop_index(batch_op.f("ix_payone_sessions_merchant_id_session_id"))
    op.drop_table("payone_sessions")
