"""Indexes for the lookups every request makes: subject by code, a record's audit history

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 08:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_subject_code"), "subject", ["code"])
    op.create_index(op.f("ix_subject_site_id"), "subject", ["site_id"])
    op.create_index("ix_audit_log_record", "audit_log", ["table_name", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_record", table_name="audit_log")
    op.drop_index(op.f("ix_subject_site_id"), table_name="subject")
    op.drop_index(op.f("ix_subject_code"), table_name="subject")
