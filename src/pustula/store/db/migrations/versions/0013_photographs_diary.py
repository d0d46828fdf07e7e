"""Photographs of the palms and soles, the patient's diary, reminder addresses

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 17:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _record_columns() -> list[sa.Column[Any]]:
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
        "photograph",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("thumbnail_sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("received_sha256", sa.String(length=64), nullable=False),
        sa.Column("received_format", sa.String(length=10), nullable=False),
        sa.Column("removed_reason", sa.Text(), nullable=True),
        *_record_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photograph")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_photograph_subject_id_subject")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_photograph_visit_id_visit")
        ),
    )
    op.create_index("ix_photograph_subject_id", "photograph", ["subject_id"])
    op.create_index("ix_photograph_visit_id", "photograph", ["visit_id"])
    with op.batch_alter_table("patient_invitation") as batch:
        batch.add_column(
            sa.Column("reminders", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_patient_invitation_parent_id_patient_invitation"),
            "patient_invitation", ["parent_id"], ["id"],
        )  # fmt: skip
    op.create_table(
        "diary_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("itch_nrs", sa.Integer(), nullable=False),
        sa.Column("pain_nrs", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.String(length=40), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=True),
        sa.Column("not_used_reason", sa.Text(), nullable=True),
        *_record_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_entry")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_diary_entry_subject_id_subject")
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["patient_invitation.id"],
            name=op.f("fk_diary_entry_invitation_id_patient_invitation"),
        ),
        sa.UniqueConstraint("subject_id", "entry_date", name=op.f("uq_diary_entry_subject_id")),
    )
    op.create_index("ix_diary_entry_subject_id", "diary_entry", ["subject_id"])
    op.create_table(
        "patient_contact",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_patient_contact")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_patient_contact_subject_id_subject")
        ),
    )


def downgrade() -> None:
    op.drop_table("patient_contact")
    op.drop_index("ix_diary_entry_subject_id", table_name="diary_entry")
    op.drop_table("diary_entry")
    with op.batch_alter_table("patient_invitation") as batch:
        batch.drop_constraint(
            op.f("fk_patient_invitation_parent_id_patient_invitation"), type_="foreignkey"
        )
        batch.drop_column("parent_id")
        batch.drop_column("reminders")
    op.drop_index("ix_photograph_visit_id", table_name="photograph")
    op.drop_index("ix_photograph_subject_id", table_name="photograph")
    op.drop_table("photograph")
