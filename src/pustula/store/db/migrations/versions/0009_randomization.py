"""Randomized trials: allocation lists and their slots, emergency unblindings, deviations

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 03:20:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _record(table: str, *columns: sa.Column[Any], keys: tuple[sa.Constraint, ...] = ()) -> None:
    """A table with the columns every audited record has (pustula.store.db.models.Record)."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        *columns,
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("deleted_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        *keys,
    )


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    _record(
        "allocation_list",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("seed", sa.String(length=128), nullable=False),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.Column("list_sha256", sa.String(length=64), nullable=False),
        sa.Column("generated_by", sa.String(length=80), nullable=False),
        sa.Column("generated_at", sa.String(length=40), nullable=False),
        keys=(
            _fk("allocation_list", "study_id", "study"),
            sa.UniqueConstraint("study_id", name=op.f("uq_allocation_list_study_id")),
        ),
    )
    _record(
        "allocation",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("block", sa.Integer(), nullable=True),
        sa.Column("block_size", sa.Integer(), nullable=True),
        sa.Column("arm", sa.String(length=40), nullable=False),
        sa.Column("kit", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("randomized_on", sa.Date(), nullable=True),
        sa.Column("confirmed_levels", sa.JSON(), nullable=False),
        sa.Column("recorded_levels", sa.JSON(), nullable=False),
        keys=(
            _fk("allocation", "list_id", "allocation_list"),
            _fk("allocation", "subject_id", "subject"),
            sa.UniqueConstraint(
                "list_id", "stratum", "position", name=op.f("uq_allocation_list_id")
            ),
            sa.UniqueConstraint("subject_id", name=op.f("uq_allocation_subject_id")),
        ),
    )
    op.create_index("ix_allocation_list_id", "allocation", ["list_id"])
    _record(
        "unblinding",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("unblinded_by", sa.String(length=80), nullable=False),
        sa.Column("unblinded_at", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        keys=(_fk("unblinding", "subject_id", "subject"),),
    )
    op.create_index("ix_unblinding_subject_id", "unblinding", ["subject_id"])
    _record(
        "deviation",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        keys=(_fk("deviation", "subject_id", "subject"),),
    )
    op.create_index("ix_deviation_subject_id", "deviation", ["subject_id"])


def downgrade() -> None:
    for table in ("deviation", "unblinding"):
        op.drop_index(f"ix_{table}_subject_id", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_allocation_list_id", table_name="allocation")
    op.drop_table("allocation")
    op.drop_table("allocation_list")
