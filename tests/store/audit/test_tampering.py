"""Tampering with the database directly is found by `pustula audit verify`, on both backends.

Each case is what someone with write access to the database (and, for the last ones, DDL
rights to drop the append-only triggers) could do. The first five are the ones an outside
check found undetected when verify looked at the hash chain alone.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from pustula.cli import app
from pustula.demo import create_demo_study
from pustula.store import Store, verify_store, write_anchor
from pustula.store.audit.chain import _chain_row, _entry_of
from tests.store.helpers import drop_audit_triggers


def _run(store: Store, *statements: str) -> None:
    with store.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def _rewrite_chain(store: Store, sign: object) -> None:
    """Recompute every hash of the chain with ``sign`` and move the head: a forger's work."""
    with store.engine.begin() as connection:
        rows = list(connection.execute(text("SELECT * FROM audit_log ORDER BY id")))
        prev = "0" * 64
        for row in rows:
            content = _chain_row(row.id, row.at, row.user, row.reason, _entry_of(row))
            canonical = json.dumps([*content, prev], ensure_ascii=False, separators=(",", ":"))
            digest = sign(canonical.encode())  # type: ignore[operator]
            connection.execute(
                text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :i"),
                {"p": prev, "h": digest, "i": row.id},
            )
            prev = digest
        connection.execute(text("UPDATE audit_head SET last_hash = :h WHERE id = 1"), {"h": prev})


@pytest.fixture
def demo(store: Store) -> Store:
    create_demo_study(store)
    assert verify_store(store).ok
    return store


DATA_TAMPERING = [
    ("UPDATE assessment SET total = 0 WHERE id = 1", "assessment 1: total is 0"),
    ("UPDATE lab SET value = 99999 WHERE id = 1", "lab 1: value is 99999"),
    ("DELETE FROM adverse_event WHERE id = 1", "adverse_event 1 is in the audit trail but missing"),
    ("UPDATE subject SET status = 'withdrawn' WHERE id = 2", 'subject 2: status is "withdrawn"'),
    ("UPDATE lab SET deleted_at = '2024-06-01T00:00:00' WHERE id = 3", "lab 3: deleted_at is"),
    ("UPDATE visit SET visit_date = '2024-01-01' WHERE id = 4", "visit 4: visit_date is"),
    ("UPDATE adverse_event SET grade = 1 WHERE grade = 3", "grade is 1 in the table but 3"),
    ("UPDATE site SET name = 'Elsewhere' WHERE id = 1", "site 1: name is"),
]


@pytest.mark.parametrize(("statement", "found"), DATA_TAMPERING)
def test_a_change_to_the_data_behind_the_trail_is_found(
    demo: Store, statement: str, found: str
) -> None:
    _run(demo, statement)
    report = verify_store(demo)
    assert not report.ok
    assert any(found in p for p in report.problems), report.problems


def test_a_record_inserted_behind_the_trail_is_found(demo: Store) -> None:
    _run(
        demo,
        "INSERT INTO site (id, study_id, code, name, version, created_at, created_by) "
        "VALUES (99, 1, 'X', 'Ghost', 1, '2024-01-01', 'mallory')",
    )
    assert "site 99 has no insert in the audit trail" in verify_store(demo).problems


def test_removing_the_newest_audit_rows_and_moving_the_head_is_found(demo: Store) -> None:
    drop_audit_triggers(demo)
    with demo.engine.begin() as connection:
        last = connection.execute(text("SELECT MAX(id) FROM audit_log")).scalar_one()
        keep = last - 5
        connection.execute(text("DELETE FROM audit_log WHERE id > :k"), {"k": keep})
        kept = connection.execute(
            text("SELECT hash FROM audit_log WHERE id = :k"), {"k": keep}
        ).scalar_one()
        connection.execute(
            text("UPDATE audit_head SET last_id = :k, last_hash = :h WHERE id = 1"),
            {"k": keep, "h": kept},
        )
    report = verify_store(demo)
    assert report.ok is False  # the chain itself verifies; the tables no longer match it
    assert any("has no insert" in p or "in the table but" in p for p in report.problems)


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        # the outside check's case: one user's password hash copied onto the admin account
        ("UPDATE app_user SET password_hash = (SELECT password_hash FROM app_user "
         "WHERE username = 'site-b') WHERE username = 'admin'",
         "password_hash is not the value the audit trail holds"),
        ("UPDATE app_user SET token_hash = 'f00d' WHERE username = 'monitor'",
         "token_hash is not the value the audit trail holds"),
        # making oneself a server administrator behind the trail
        ("UPDATE app_user SET role = 'admin' WHERE username = 'site-b'",
         'role is "admin" in the table but "member"'),
        ("UPDATE study_role SET role = 'admin' WHERE role = 'data_entry'",
         'role is "admin" in the table but "data_entry"'),
        ("UPDATE app_user SET sites = '[\"*\"]' WHERE username = 'site-b'", ": sites is"),
        ("UPDATE app_user SET active = true WHERE username = 'statistician'", None),
    ],
)  # fmt: skip
def test_a_change_to_an_account_behind_the_trail_is_found(
    demo: Store, statement: str, found: str | None
) -> None:
    """Accounts, roles, site access and tokens are audited like data: the secrets by a
    keyed digest (nothing of them in the trail), the rest by value."""
    from pustula.demo import create_demo_users

    create_demo_users(demo)
    assert verify_store(demo).ok
    _run(demo, statement)
    report = verify_store(demo)
    if found is None:  # setting a value to what it already is changes nothing
        assert report.ok
        return
    assert not report.ok and any(found in p for p in report.problems), report.problems


@pytest.mark.parametrize(
    "column", ["at", "user", "action", "table_name", "record_id", "field", "old_value",
               "new_value", "reason"],
)  # fmt: skip
def test_every_signed_column_of_an_audit_row_is_covered_by_its_hash(
    demo: Store, column: str
) -> None:
    """Who, when, what, old, new and why: a change to any one of them breaks the row's HMAC
    (before, a chain without the reason in it passed every test)."""
    drop_audit_triggers(demo)
    with demo.engine.begin() as connection:
        row = connection.execute(text("SELECT * FROM audit_log WHERE id = 2")).mappings().one()
    value = row[column]
    changed = (value or 0) + 1 if isinstance(value, int) else f"{value or ''}x"
    with demo.engine.begin() as connection:
        connection.execute(
            text(f'UPDATE audit_log SET "{column}" = :v WHERE id = 2'), {"v": changed}
        )
    report = verify_store(demo)
    assert report.problems[0] == "audit row 2 was altered after it was written", report.problems


def test_a_log_rewritten_without_the_key_is_found(demo: Store) -> None:
    drop_audit_triggers(demo)
    _run(demo, "UPDATE audit_log SET new_value = '99999.0' WHERE id = 1")
    _rewrite_chain(demo, lambda b: hashlib.sha256(b).hexdigest())  # plain SHA-256, no key
    report = verify_store(demo)
    assert report.problems[0] == "audit row 1 was altered after it was written"


def test_a_log_rewritten_with_the_key_is_found_by_the_anchor(demo: Store, tmp_path: Path) -> None:
    anchor = tmp_path / "anchor.json"
    write_anchor(demo, anchor)
    drop_audit_triggers(demo)
    with demo.engine.begin() as connection:  # the forger changes a lab value and its insert
        row = connection.execute(
            text("SELECT id, new_value FROM audit_log WHERE table_name = 'lab' ORDER BY id")
        ).first()
        assert row is not None
        values = json.loads(row.new_value) | {"value": 1.0}
        connection.execute(
            text("UPDATE audit_log SET new_value = :v WHERE id = :i"),
            {"v": json.dumps(values, sort_keys=True), "i": row.id},
        )
        connection.execute(text(f"UPDATE lab SET value = 1.0 WHERE id = {values['id']}"))
    _rewrite_chain(demo, demo.audit_key.sign)  # with the key itself
    assert verify_store(demo).ok  # chain and tables agree again: only the anchor can tell
    report = verify_store(demo, anchor=anchor)
    assert any("differs from the anchor: the trail was rewritten" in p for p in report.problems)


def test_a_truncated_log_is_found_by_the_anchor(demo: Store, tmp_path: Path) -> None:
    anchor = tmp_path / "anchor.json"
    write_anchor(demo, anchor)
    drop_audit_triggers(demo)
    _run(demo, "DELETE FROM audit_log", "DELETE FROM adverse_event", "DELETE FROM lab")
    report = verify_store(demo, anchor=anchor)
    assert not report.ok


def test_a_wrong_key_is_named_as_such(demo: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSTULA_AUDIT_KEY", "another-key-" + "1" * 40)
    other = Store.open(demo.engine.url.render_as_string(hide_password=False))
    report = verify_store(other)
    assert "signed with key" in (report.problem or "")
    other.dispose()


def test_the_cli_exits_non_zero_and_names_what_it_found(
    sqlite_store: Store, tmp_path: Path
) -> None:
    demo = sqlite_store
    create_demo_study(demo)
    url = demo.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["--database", url, "audit", "anchor", "-o", str(tmp_path / "a")]
        ).exit_code
        == 0
    )
    ok = runner.invoke(app, ["--database", url, "audit", "verify", "--anchor", str(tmp_path / "a")])
    assert ok.exit_code == 0 and "every table matches it and the anchor" in ok.output
    _run(demo, "UPDATE lab SET value = 99999 WHERE id = 1")
    bad = runner.invoke(app, ["--database", url, "audit", "verify"])
    assert bad.exit_code == 1
    assert "lab 1: value is 99999.0 in the table but 1900.0 in the audit trail" in bad.output


def test_a_removed_head_row_and_a_wrong_key_are_named(demo: Store) -> None:
    """Mutation testing found these two reports' contents unasserted (docs/mutation.md)."""
    from pustula.store import verify_audit
    from pustula.store.keys.audit_key import AuditKey

    with demo.read_connection() as connection:
        wrong = verify_audit(connection, AuditKey(b"w" * 32, "a mistyped key"))
    assert (wrong.entries, wrong.last_hash, wrong.key_id) == (0, "0" * 64, demo.audit_key.key_id)
    assert "signed with key" in wrong.problems[0] and "a mistyped key" in wrong.problems[0]
    with demo.read_connection() as connection:
        right = verify_audit(connection, demo.audit_key)
    assert right.key_id == demo.audit_key.key_id and right.problems == ()
    drop_audit_triggers(demo)
    _run(demo, "DELETE FROM audit_head")
    with demo.read_connection() as connection:
        missing = verify_audit(connection, demo.audit_key)
    assert (missing.entries, missing.last_hash) == (0, "0" * 64)
    assert missing.problems == ("the audit head row is missing",)
