"""Data quality rules: a monitor's condition over one form's fields

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("form", sa.String(length=40), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("deleted_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_rule")),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_quality_rule_study_id_study")
        ),
    )
    op.create_index("ix_quality_rule_study_id", "quality_rule", ["study_id"])


def downgrade() -> None:
    op.drop_index("ix_quality_rule_study_id", table_name="quality_rule")
    op.drop_table("quality_rule")
