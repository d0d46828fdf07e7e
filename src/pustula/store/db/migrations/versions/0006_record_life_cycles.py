"""Record life cycles: end of participation, re-screening, instruments not done

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no table copy), so the audit triggers on these tables stay in place
    op.add_column("subject", sa.Column("ended_on", sa.Date(), nullable=True))
    op.add_column("subject", sa.Column("end_reason", sa.Text(), nullable=True))
    op.add_column("subject", sa.Column("last_contact", sa.Date(), nullable=True))
    op.add_column(
        "eligibility_result",
        sa.Column("screening", sa.Integer(), nullable=False, server_default="1"),
    )
    op.add_column("assessment", sa.Column("not_done_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessment") as batch_op:
        batch_op.drop_column("not_done_reason")
    with op.batch_alter_table("eligibility_result") as batch_op:
        batch_op.drop_column("screening")
    with op.batch_alter_table("subject") as batch_op:
        batch_op.drop_column("last_contact")
        batch_op.drop_column("end_reason")
        batch_op.drop_column("ended_on")
