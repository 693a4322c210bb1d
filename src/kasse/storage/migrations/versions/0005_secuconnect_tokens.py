"""secuconnect tokens

secuconnect's OAuth access tokens, by their SHA-256, with their expiry on the merchant's clock.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "secuconnect_tokens",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_secuconnect_tokens_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_secuconnect_tokens_token_hash")),
    )
    with op.batch_alter_table("secuconnect_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_secuconnect_tokens_merchant_id_expires_at"), ["merchant_id", "expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("secuconnect_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secuconnect_tokens_merchant_id_expires_at"))
    op.drop_table("secuconnect_tokens")
