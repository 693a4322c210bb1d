"""payment scoped indexes

A payment's refunds and ledger transfers in id order, and a few transfers' legs, each from one index.
Without table statistics SQLite's planner chose the (merchant_id, id) and (merchant_id, currency,
account) indexes for these reads, which walk every refund, transfer and leg of the merchant: a Stripe
charge cost ~46 ms of CPU on SQLite with ~20,000 charges stored (bench, full mode).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_refunds_merchant_id_payment_id", table_name="refunds")
    op.create_index("ix_refunds_merchant_id_payment_id_id", "refunds", ["merchant_id", "payment_id", "id"])
    op.drop_index("ix_ledger_transfers_merchant_id_payment_id", table_name="ledger_transfers")
    op.create_index(
        "ix_ledger_transfers_merchant_id_payment_id_id", "ledger_transfers", ["merchant_id", "payment_id", "id"]
    )
    op.create_index("ix_ledger_legs_merchant_id_transfer_id", "ledger_legs", ["merchant_id", "transfer_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_legs_merchant_id_transfer_id", table_name="ledger_legs")
    op.drop_index("ix_ledger_transfers_merchant_id_payment_id_id", table_name="ledger_transfers")
    op.create_index("ix_ledger_transfers_merchant_id_payment_id", "ledger_transfers", ["merchant_id", "payment_id"])
    op.drop_index("ix_refunds_merchant_id_payment_id_id", table_name="refunds")
    op.create_index("ix_refunds_merchant_id_payment_id", "refunds", ["merchant_id", "payment_id"])
