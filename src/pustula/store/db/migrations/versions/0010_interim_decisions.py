"""Interim looks: each decision a design's interim look led to, with its numbers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interim_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("look", sa.String(length=60), nullable=False),
        sa.Column("evaluable", sa.Integer(), nullable=False),
        sa.Column("responders", sa.Integer(), nullable=False),
        sa.Column("statistic", sa.Float(), nullable=True),
        sa.Column("decision", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=False),
        sa.Column("decided_at", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("deleted_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interim_decision")),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_interim_decision_study_id_study")
        ),
    )
    op.create_index("ix_interim_decision_study_id", "interim_decision", ["study_id"])


def downgrade() -> None:
    op.drop_index("ix_interim_decision_study_id", table_name="interim_decision")
    op.drop_table("interim_decision")
