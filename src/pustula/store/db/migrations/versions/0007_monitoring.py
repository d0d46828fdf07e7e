"""Monitoring: data queries and their threads, source data verification, e-signatures, locks

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 20:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
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
        "data_query",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.String(length=40), nullable=False),
        sa.Column("closed_at", sa.String(length=40), nullable=True),
        keys=(_fk("data_query", "subject_id", "subject"),),
    )
    op.create_index("ix_data_query_subject_id", "data_query", ["subject_id"])
    _record(
        "query_message",
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("change_at", sa.String(length=40), nullable=True),
        keys=(_fk("query_message", "query_id", "data_query"),),
    )
    op.create_index("ix_query_message_query_id", "query_message", ["query_id"])
    _record(
        "verification",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=True),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("verified_by", sa.String(length=80), nullable=False),
        sa.Column("verified_at", sa.String(length=40), nullable=False),
        keys=(_fk("verification", "subject_id", "subject"),),
    )
    op.create_index("ix_verification_subject_id", "verification", ["subject_id"])
    _record(
        "signature",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("signer", sa.String(length=80), nullable=False),
        sa.Column("signed_at", sa.String(length=40), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("data_hash", sa.String(length=64), nullable=False),
        sa.Column("invalidated_at", sa.String(length=40), nullable=True),
        sa.Column("invalidated_reason", sa.Text(), nullable=True),
        keys=(_fk("signature", "subject_id", "subject"), _fk("signature", "visit_id", "visit")),
    )
    op.create_index("ix_signature_subject_id", "signature", ["subject_id"])
    _record(
        "study_lock",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("locked_by", sa.String(length=80), nullable=False),
        sa.Column("locked_at", sa.String(length=40), nullable=False),
        sa.Column("lock_reason", sa.Text(), nullable=False),
        sa.Column("snapshot_sha256", sa.String(length=64), nullable=False),
        sa.Column("unlocked_by", sa.String(length=80), nullable=True),
        sa.Column("unlocked_at", sa.String(length=40), nullable=True),
        sa.Column("unlock_reason", sa.Text(), nullable=True),
        keys=(_fk("study_lock", "study_id", "study"), _fk("study_lock", "subject_id", "subject")),
    )
    op.create_index("ix_study_lock_study_id", "study_lock", ["study_id"])


def downgrade() -> None:
    for table in ("study_lock", "signature", "verification", "query_message", "data_query"):
        op.drop_table(table)
