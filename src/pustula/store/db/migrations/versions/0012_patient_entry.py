"""Patient entry: who answered an assessment, and one-time invitations for patients

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessment") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=20), server_default="site", nullable=False)
        )
        batch.add_column(sa.Column("answered_at", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("device", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("not_used_reason", sa.Text(), nullable=True))
    op.create_table(
        "patient_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("instruments", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("expires_at", sa.String(length=40), nullable=False),
        sa.Column("used_at", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("deleted_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_invitation")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_patient_invitation_subject_id_subject")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_patient_invitation_visit_id_visit")
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_patient_invitation_token_hash")),
    )
    op.create_index("ix_patient_invitation_subject_id", "patient_invitation", ["subject_id"])
    op.create_index("ix_patient_invitation_visit_id", "patient_invitation", ["visit_id"])


def downgrade() -> None:
    op.drop_index("ix_patient_invitation_visit_id", table_name="patient_invitation")
    op.drop_index("ix_patient_invitation_subject_id", table_name="patient_invitation")
    op.drop_table("patient_invitation")
    with op.batch_alter_table("assessment") as batch:
        batch.drop_column("not_used_reason")
        batch.drop_column("device")
        batch.drop_column("answered_at")
        batch.drop_column("source")
