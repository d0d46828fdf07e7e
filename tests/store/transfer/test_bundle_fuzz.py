"""Fuzzed bundles: 1,000 altered copies of a real one. Each is refused with an
ImportBundleError naming the file (never a traceback, never a partial import), or, when the
change left the data the same, imported with exactly the source's data. No altered bundle
is ever accepted.

The checksums and row counts in the manifest are recomputed for about half the cases, as
someone preparing a forged bundle would.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pustula.errors import ImportBundleError
from pustula.store import (
    Store,
    add_adverse_event,
    add_lab,
    export_bundle,
    import_bundle,
    record_visit,
)
from pustula.store.db.models import Base
from tests.store.helpers import dump_tables, enrol, make_study, pppasi, write_signed_manifest

NASTY = [
    # "[]" and "false" in a JSON column were found by the 10,000-case benchmark
    "", " ", "nan", "NaN", "inf", "-inf", "1e400", "-1", "0", "true", "false", "null", "{}",
    "[]", '{"a": 1}', "\x00", "a\x00b", "9999-12-31", "0001-01-01", "2024-02-30", "99",
    "é", "😀", "x" * 5000, "'; DROP TABLE lab; --", "1.5", "3", "S01", "W4",
]  # fmt: skip
TABLES = ["study", "site", "subject", "baseline", "prior_therapy", "eligibility_result",
          "exposure", "visit", "assessment", "lab", "adverse_event", "audit_log", "audit_head"]  # fmt: skip


def build_source(folder: Path) -> tuple[Path, dict[str, list[tuple[object, ...]]]]:
    """A small real study exported to ``folder / "bundle"``, and its data."""
    store = Store.open(f"sqlite:///{folder / 'source.sqlite3'}")
    store.create_schema()
    study = make_study(store)
    subject = enrol(store, study)
    with store.transaction(user="t") as tx:
        record_visit(tx, study, subject, visit_code="W0", visit_date=date(2024, 3, 4),
                     assessments={"pppasi": pppasi(), "pga": {"pga": 3}})  # fmt: skip
    with store.transaction(user="t") as tx:
        add_lab(tx, study, subject, {"test": "alt", "value": 30.0, "unit": "U/L",
                                     "upper_limit": 40.0, "sample_date": date(2024, 3, 1)})  # fmt: skip
        add_adverse_event(tx, subject, {"term": "Headache", "start_date": date(2024, 3, 10),
                                        "grade": 1, "relatedness": "unlikely",
                                        "action_taken": "none", "outcome": "recovered",
                                        "end_date": date(2024, 3, 12)})  # fmt: skip
    export_bundle(store, folder / "bundle")
    dump = _dump(store)
    store.dispose()
    return folder / "bundle", dump


@pytest.fixture(scope="module")
def source(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, list[tuple[object, ...]]]]:
    return build_source(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('target') / 'target.sqlite3'}")
    store.create_schema()
    return store


def _dump(store: Store) -> dict[str, list[tuple[object, ...]]]:
    return dump_tables(store, leave_out=("app_user", "web_session", "login_failure"))


def _reseal(bundle: Path, table: str) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    path = bundle / f"{table}.csv"
    manifest["tables"][table]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    manifest["tables"][table]["rows"] = max(0, len(lines) - 1)
    write_signed_manifest(bundle, manifest)


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, ...]:
    kind = draw(st.sampled_from(["cell", "cell", "cell", "drop_row", "dup_row", "truncate",
                                 "bytes", "manifest", "delete_file"]))  # fmt: skip
    table = draw(st.sampled_from(TABLES))
    return (kind, table, str(draw(st.integers(0, 10**6))), draw(st.sampled_from(NASTY)),
            str(draw(st.booleans())))  # fmt: skip


def _apply(bundle: Path, mutation: tuple[str, ...]) -> None:
    kind, table, number, value, reseal = mutation
    if kind == "manifest":
        _mutate_manifest(bundle, table, int(number) % 6, value)
        return
    path = bundle / f"{table}.csv"
    if kind == "delete_file":
        path.unlink()
        return
    _mutate_file(path, kind, int(number), value)
    if reseal == "True":
        _reseal(bundle, table)


def _mutate_file(path: Path, kind: str, n: int, value: str) -> None:
    import csv
    import io

    data = path.read_bytes()
    lines = data.decode("utf-8").splitlines(keepends=True)
    if kind == "cell" and len(lines) > 1:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        rows[1 + n % (len(rows) - 1)][n % len(rows[0])] = value
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")
    elif kind == "drop_row" and len(lines) > 1:
        del lines[1 + n % (len(lines) - 1)]
        path.write_text("".join(lines), encoding="utf-8")
    elif kind == "dup_row" and len(lines) > 1:
        path.write_text("".join([*lines, lines[1 + n % (len(lines) - 1)]]), encoding="utf-8")
    elif kind == "truncate":
        path.write_bytes(data[: n % max(1, len(data))])
    elif kind == "bytes" and data:
        path.write_bytes(data[: n % len(data)] + b"\xff" + data[n % len(data) + 1 :])


def _mutate_manifest(bundle: Path, table: str, choice: int, value: str) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    if choice == 5:
        (bundle / "manifest.json").write_text(value)
        return
    if choice == 0:
        manifest["tables"] = []
    elif choice == 1:
        manifest["format"] = "parquet"
    elif choice == 2:
        manifest["tables"][table]["rows"] = value
    elif choice == 3:
        manifest["schema_revision"] = value
    else:
        del manifest["tables"][table]
    write_signed_manifest(bundle, manifest)


@settings(max_examples=1000, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(mutation=mutations())
def test_a_fuzzed_bundle_is_refused_or_unchanged(
    source: tuple[Path, dict[str, list[tuple[object, ...]]]],
    target: Store,
    tmp_path_factory: pytest.TempPathFactory,
    mutation: tuple[str, ...],
) -> None:
    original, expected = source
    bundle = tmp_path_factory.mktemp("case") / "bundle"
    shutil.copytree(original, bundle)
    _apply(bundle, mutation)
    refused: ImportBundleError | None = None
    try:
        import_bundle(target, bundle, user="fuzz", reason="fuzz")
    except ImportBundleError as exc:
        refused = exc
    if refused is not None:
        assert refused.file, mutation  # it names what failed
        assert all(rows == [] for rows in _dump(target).values()), mutation  # nothing written
    else:
        assert _dump(target) == expected, mutation  # accepted only when the data are the same
        with target.engine.begin() as connection:  # empty the target for the next case
            for table in reversed(Base.metadata.sorted_tables):
                if table.name not in ("audit_head",):
                    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
                    connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
                    connection.execute(table.delete())
            connection.exec_driver_sql(
                "UPDATE audit_head SET last_id = 0, last_hash = '" + "0" * 64 + "', key_id = NULL"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    shutil.rmtree(bundle.parent, ignore_errors=True)
