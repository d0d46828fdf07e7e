"""The audit chain is signed with a key kept outside the database (HMAC-SHA256)

An existing chain, hashed with plain SHA-256, is verified first and then signed again
with the key; a chain that does not verify stops the migration, so that no tampering is
ever blessed by a new signature.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from pustula.errors import AuditError, ConfigurationError

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
    bind = op.get_bind()
    if not bind.execute(sa.text("SELECT COUNT(*) FROM audit_log")).scalar():
        return
    _resign(bind)


def _resign(bind: sa.Connection) -> None:
    from pustula.store.audit.chain import _chain_row, _digest, _entry_of, verify_chain

    key_of = context.config.attributes.get("audit_key")
    if key_of is None:
        raise ConfigurationError("signing the existing audit trail needs the audit key")
    key = key_of()
    rows = list(bind.execute(sa.text("SELECT * FROM audit_log ORDER BY id")))
    head = bind.execute(sa.text("SELECT last_id, last_hash FROM audit_head WHERE id = 1")).one()
    legacy = verify_chain(rows, None, head=(head.last_id, head.last_hash))
    if not legacy.ok:
        raise AuditError(
            f"the audit trail does not verify ({legacy.problem}); it is not signed again. "
            "Restore the database from a backup"
        )
    _drop_triggers(bind)
    prev = "0" * 64
    for row in rows:
        content = _chain_row(row.id, row.at, row.user, row.reason, _entry_of(row))
        digest = _digest([*content, prev], key)
        bind.execute(
            sa.text("UPDATE audit_log SET prev_hash = :prev, hash = :hash WHERE id = :id"),
            {"prev": prev, "hash": digest, "id": row.id},
        )
        prev = digest
    bind.execute(
        sa.text("UPDATE audit_head SET last_hash = :hash, key_id = :key WHERE id = 1"),
        {"hash": prev, "key": key.key_id},
    )
    _create_triggers(bind)


def _drop_triggers(bind: sa.Connection) -> None:
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")


def _create_triggers(bind: sa.Connection) -> None:
    if bind.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    else:
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("key_id")
