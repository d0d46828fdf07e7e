"""Protocol versions and amendments, consent per version, the version a visit's window
follows

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 01:00:00

Each study's first version and each subject's first consent are written by an audited step
after the upgrade (pustula.store.records.amendments), not here: rows written by a migration
would have no entry in the audit trail.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _record_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("deleted_at", sa.String(length=40), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "protocol_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("protocol_version", sa.String(length=40), nullable=False),
        sa.Column("protocol_yaml", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("reconsent", sa.Boolean(), nullable=True),
        sa.Column("approved_by", sa.String(length=80), nullable=True),
        sa.Column("approved_at", sa.String(length=40), nullable=True),
        sa.Column("approval_reason", sa.Text(), nullable=True),
        *_record_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_version")),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_protocol_version_study_id_study")
        ),
        sa.UniqueConstraint(
            "study_id", "protocol_version", name=op.f("uq_protocol_version_study_id")
        ),
    )
    op.create_index("ix_protocol_version_study_id", "protocol_version", ["study_id"])
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("protocol_version", sa.String(length=40), nullable=False),
        sa.Column("consented_on", sa.Date(), nullable=False),
        *_record_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_consent_subject_id_subject")
        ),
    )
    op.create_index("ix_consent_subject_id", "consent", ["subject_id"])
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("protocol_version", sa.String(length=40), nullable=True))


def downgrade() -> None:
    # not in batch mode: SQLite would copy the visit table, and the assessments that refer
    # to it stop a DROP TABLE; SQLite 3.35 and PostgreSQL both drop a column in place
    op.execute("ALTER TABLE visit DROP COLUMN protocol_version")
    op.drop_index("ix_consent_subject_id", table_name="consent")
    op.drop_table("consent")
    op.drop_index("ix_protocol_version_study_id", table_name="protocol_version")
    op.drop_table("protocol_version")
