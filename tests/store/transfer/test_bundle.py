"""Export then import gives the same data; one bad row imports nothing and is named."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from pustula.demo import create_demo_study
from pustula.errors import ImportBundleError
from pustula.store import Store, export_bundle, import_bundle, verify_audit
from tests.store.helpers import audit_count, dump_tables, write_signed_manifest


def _dump(store: Store) -> dict[str, list[tuple[object, ...]]]:
    return dump_tables(store)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_keeps_every_row_and_the_audit_chain(
    store: Store, tmp_path: Path, fmt: str
) -> None:
    source = Store.open(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    source.create_schema()
    create_demo_study(source)
    summary = export_bundle(source, tmp_path / "bundle", fmt=fmt)  # type: ignore[arg-type]
    assert summary.synthetic
    rows = import_bundle(store, tmp_path / "bundle", user="restorer", reason="round trip")
    assert rows["assessment"] == 48
    assert _dump(store) == _dump(source)
    with store.engine.connect() as connection:
        report = verify_audit(connection, store.audit_key)
    assert report.ok, report.problem
    assert report.entries == audit_count(source) + 1  # plus the import itself


def _bundle(tmp_path: Path) -> Path:
    source = Store.open(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    source.create_schema()
    create_demo_study(source)
    export_bundle(source, tmp_path / "bundle")
    return tmp_path / "bundle"


def _edit_cell(bundle: Path, table: str, row: int, column: str, value: str) -> None:
    """Change one cell and re-sign the manifest, as someone preparing a bundle would."""
    path = bundle / f"{table}.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[row - 1][column] = value
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["tables"][table]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    write_signed_manifest(bundle, manifest)


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "message"),
    [
        (
            "lab",
            7,
            "value",
            "high",
            "lab.csv row 7: column `value` could not convert string to float: 'high'",
        ),
        (
            "visit",
            3,
            "visit_date",
            "2024-02-30",
            "visit.csv row 3: column `visit_date` day is out of range for month",
        ),
        (
            "subject",
            2,
            "site_id",
            "99",
            "subject.csv row 2: `site_id` 99 refers to a site that is not in the bundle",
        ),
        ("visit", 5, "id", "4", "visit.csv row 5: duplicate id (4,)"),
        (
            "adverse_event",
            1,
            "serious",
            "maybe",
            "adverse_event.csv row 1: column `serious` must be true or false",
        ),
        (
            "assessment",
            4,
            "total",
            "30.5",
            "assessment.csv row 4: stored total 30.5 does not match the items",
        ),
        (
            "audit_log",
            10,
            "user",
            "mallory",
            "audit_log.csv row 10: the audit chain does not verify here",
        ),
        ("baseline", 1, "age", "", "baseline.csv row 1: column `age` a value is required"),
    ],
)
def test_one_bad_row_imports_nothing(
    store: Store, tmp_path: Path, table: str, row: int, column: str, value: str, message: str
) -> None:
    bundle = _bundle(tmp_path)
    _edit_cell(bundle, table, row, column, value)
    with pytest.raises(ImportBundleError) as caught:
        import_bundle(store, bundle, user="u", reason="r")
    assert str(caught.value).startswith(message)
    assert caught.value.file == f"{table}.csv" and caught.value.row == row
    assert audit_count(store) == 0
    assert all(rows == [] for rows in _dump(store).values())


def test_a_changed_file_without_a_new_checksum_is_refused(store: Store, tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    path = bundle / "lab.csv"
    path.write_text(path.read_text().replace("13.8", "3.8", 1))
    with pytest.raises(
        ImportBundleError, match=r"lab\.csv: the file does not match the manifest's checksum"
    ):
        import_bundle(store, bundle, user="u", reason="r")


def test_import_only_into_an_empty_store(store: Store, tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    create_demo_study(store)
    before = audit_count(store)
    with pytest.raises(ImportBundleError, match="the target database is not empty"):
        import_bundle(store, bundle, user="u", reason="r")
    assert audit_count(store) == before


def test_import_into_a_database_never_initialised_names_the_cause(tmp_path: Path) -> None:
    """Before, the database driver's "no such table: study" reached the user."""
    from pustula.errors import StoreError

    bundle = _bundle(tmp_path)
    never_initialised = Store.open(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    with pytest.raises(StoreError, match=r"the database has no tables: run `pustula init`"):
        import_bundle(never_initialised, bundle, user="u", reason="r")
    never_initialised.dispose()


# --- altered bundles whose checksums were recomputed ------------------------------------------


def _rewrite(bundle: Path, table: str, edit: object) -> None:
    """Apply ``edit`` to a table's rows and recompute its checksum and row count."""
    path = bundle / f"{table}.csv"
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows = edit(rows)  # type: ignore[operator]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["tables"][table]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest["tables"][table]["rows"] = len(rows) - 1
    write_signed_manifest(bundle, manifest)


def _set(column: str, value: str, row: int = 1) -> object:
    def edit(rows: list[list[str]]) -> list[list[str]]:
        rows[row][rows[0].index(column)] = value
        return rows

    return edit


@pytest.mark.parametrize(
    ("table", "edit", "found"),
    [
        (
            "assessment",
            lambda rows: rows[:4] + rows[5:],
            "assessment 4 is in the audit trail but missing",
        ),
        ("lab", lambda rows: rows[:10], "is in the audit trail but missing from the table"),
        ("lab", _set("value", "99999.0"), "lab 1: value is 99999.0 in the table but"),
        ("adverse_event", _set("grade", "1", 5), "adverse_event 5: grade is 1 in the table but 2"),
    ],
)
def test_an_altered_bundle_is_refused_against_its_own_trail(
    store: Store, tmp_path: Path, table: str, edit: object, found: str
) -> None:
    bundle = _bundle(tmp_path)
    _rewrite(bundle, table, edit)
    with pytest.raises(
        ImportBundleError, match="the bundle's data do not match its own audit trail"
    ) as caught:
        import_bundle(store, bundle, user="u", reason="r")
    assert found in str(caught.value)
    assert audit_count(store) == 0


def test_a_row_count_that_disagrees_with_the_manifest_is_refused(
    store: Store, tmp_path: Path
) -> None:
    bundle = _bundle(tmp_path)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["tables"]["lab"]["rows"] += 1
    write_signed_manifest(bundle, manifest)
    with pytest.raises(
        ImportBundleError, match=r"lab\.csv: holds 72 rows but the manifest says 73"
    ):
        import_bundle(store, bundle, user="u", reason="r")


def test_a_bundle_from_another_installation_is_signed_again_with_this_key(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pustula.store.keys.signing import new_private_pem

    elsewhere = tmp_path / "elsewhere.pem"
    elsewhere.write_bytes(new_private_pem())
    monkeypatch.setenv("PUSTULA_AUDIT_KEY", "the-other-installation-" + "5" * 40)
    monkeypatch.setenv("PUSTULA_SIGNING_KEY_FILE", str(elsewhere))
    source = Store.open(f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")
    source.create_schema()
    create_demo_study(source)
    export_bundle(source, tmp_path / "bundle")
    (tmp_path / "elsewhere-public.pem").write_text(source.signing_key.public_pem())
    monkeypatch.undo()
    import_bundle(store, tmp_path / "bundle", user="u", reason="moved here",
                  trust=[tmp_path / "elsewhere-public.pem"])  # fmt: skip
    from pustula.store import verify_store

    assert verify_store(store).ok


def test_restore_verifies_a_sqlite_backup_before_writing(store: Store, tmp_path: Path) -> None:
    from sqlalchemy import text

    from pustula.errors import AuditError
    from pustula.store import backup, restore, verify_store

    source = Store.open(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    source.create_schema()
    create_demo_study(source)
    good = backup(source, tmp_path / "good.sqlite3")
    with source.engine.begin() as connection:
        connection.execute(text("UPDATE lab SET value = 1 WHERE id = 2"))
    bad = backup(source, tmp_path / "bad.sqlite3")
    with pytest.raises(AuditError, match="the backup does not verify, so nothing was restored"):
        restore(store, bad, user="u", reason="disk failure")
    assert audit_count(store) == 0
    rows = restore(store, good, user="u", reason="disk failure")
    assert rows["lab"] == 72
    assert verify_store(store).ok


@pytest.mark.parametrize("items", ["[]", "false", "3", "null"])
def test_item_values_that_are_not_an_object_are_refused(
    store: Store, tmp_path: Path, items: str
) -> None:
    """Found by the 10,000-bundle benchmark: a list or a boolean in `items` was a traceback."""
    bundle = _bundle(tmp_path)
    _edit_cell(bundle, "assessment", 2, "items", items)
    with pytest.raises(ImportBundleError, match=r"assessment\.csv row 2: column `items`"):
        import_bundle(store, bundle, user="u", reason="r")


def test_a_bundle_with_a_forged_allocation_is_refused(store: Store, tmp_path: Path) -> None:
    """A randomized trial's bundle whose first slot was given the other arm, checksums and
    signature made again: the arm's digest in the bundle's own trail no longer matches."""
    from pustula.demo_trial import create_trial_study

    source = Store.open(f"sqlite:///{tmp_path / 'trial.sqlite3'}")
    source.create_schema()
    create_trial_study(source, subjects=3)
    export_bundle(source, tmp_path / "bundle")
    source.dispose()
    clean = Store.open(f"sqlite:///{tmp_path / 'clean.sqlite3'}")
    clean.create_schema()
    assert import_bundle(clean, tmp_path / "bundle", user="u", reason="r")["allocation"] == 240
    clean.dispose()

    def swap(rows: list[list[str]]) -> list[list[str]]:
        arm = rows[0].index("arm")
        rows[1][arm] = {"TOFA5": "PLCB", "PLCB": "TOFA5"}[rows[1][arm]]
        return rows

    _rewrite(tmp_path / "bundle", "allocation", swap)
    with pytest.raises(
        ImportBundleError, match="the allocation list is not the one its seed gives"
    ) as caught:
        import_bundle(store, tmp_path / "bundle", user="u", reason="r")
    assert "is not as generated" in str(caught.value)
    assert audit_count(store) == 0
