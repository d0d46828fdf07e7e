"""Roles per study: who may do what in which study, and at which sites

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 21:00:00

The roles users held before (one role for the whole server) are given to them in every
existing study by an audited step after the upgrade (pustula.store.accounts.studies), not
here: rows written by a migration would have no entry in the audit trail.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "study_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("deleted_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_role")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_study_role_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_study_role_study_id_study")
        ),
        sa.UniqueConstraint("user_id", "study_id", name=op.f("uq_study_role_user_id")),
    )
    op.create_index("ix_study_role_user_id", "study_role", ["user_id"])
    op.create_index("ix_study_role_study_id", "study_role", ["study_id"])


def downgrade() -> None:
    op.drop_index("ix_study_role_study_id", table_name="study_role")
    op.drop_index("ix_study_role_user_id", table_name="study_role")
    op.drop_table("study_role")
