"""Kept import sources: the files imports read, content-addressed and compressed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("reader", sa.String(length=40), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.String(length=40), nullable=False),
        sa.Column("imported_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_source")),
        sa.UniqueConstraint("sha256", name=op.f("uq_import_source_sha256")),
    )
    op.create_table(
        "import_source_chunk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["import_source.id"],
            name=op.f("fk_import_source_chunk_source_id_import_source"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_source_chunk")),
    )
    op.create_index(op.f("ix_import_source_chunk_source_id"), "import_source_chunk", ["source_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_import_source_chunk_source_id"), table_name="import_source_chunk")
    op.drop_table("import_source_chunk")
    op.drop_table("import_source")
