"""An import that keeps its file (decision 0007): one compact audit entry per casebook,
every imported value replayed from the kept file by the integrity check, and a change to
a stored value or to the kept file found and named."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select, text

from pustula.demo import create_demo_study
from pustula.errors import AuditError
from pustula.interop.redcap_records import export_records, parse_records, read_source
from pustula.protocol import Protocol
from pustula.store import AuditLog, Store, export_bundle, get_study, import_bundle, verify_store
from pustula.store.audit.chain import CASEBOOK, audit_history
from pustula.store.audit.sources import ImportSource, kept_source, load_sources
from pustula.store.records.study import protocol_of
from pustula.store.services.clinical import casebooks, import_subjects
from tests.interop.helpers import empty_copy, new_store
from tests.store.helpers import dump_tables


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Protocol, bytes]:
    store = new_store(tmp_path_factory.mktemp("demo") / "demo.sqlite3")
    create_demo_study(store)
    with store.reader() as session:
        protocol = protocol_of(get_study(session))
    return protocol, export_records(casebooks(store), protocol).encode()


def _imported(tmp_path: Path, protocol: Protocol, content: bytes, *, keep: bool) -> Store:
    tmp_path.mkdir(parents=True, exist_ok=True)
    store = empty_copy(tmp_path, protocol)
    source = ImportSource("records.csv", content, "redcap-records")
    subjects = read_source(content, protocol, {})
    import_subjects(store, "importer", subjects, reason="migration",
                    source=source if keep else None)  # fmt: skip
    return store


def _casebook_entries(store: Store) -> list[dict[str, object]]:
    with store.reader() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.action == CASEBOOK)).all()
        return [json.loads(r.new_value or "{}") for r in rows]


def test_each_casebook_entry_names_the_kept_file_its_lines_and_a_hash_of_its_values(
    export: tuple[Protocol, bytes], tmp_path: Path
) -> None:
    protocol, content = export
    store = _imported(tmp_path, protocol, content, keep=True)
    entries = _casebook_entries(store)
    assert len(entries) == 6
    first = entries[0]
    assert first["source"] == ImportSource("x", content, "redcap-records").sha256
    assert first["code"] == "S01"
    # S01's rows are the file's lines 2 to n: the header is line 1
    lines = first["lines"]
    assert isinstance(lines, list) and lines[0][0] == 2
    physical = content.decode().splitlines()
    assert all(physical[a - 1].startswith("S01,") for a, b in lines for _ in range(1))
    assert "visit" in first["ids"] and len(str(first["values"])) == 64  # type: ignore[operator]
    with store.engine.connect() as connection:
        kept = kept_source(*load_sources(connection), str(first["source"]))
    assert kept.content == content and kept.reader == "redcap-records"
    assert verify_store(store).problems == ()


def test_the_same_rows_are_stored_whether_or_not_the_file_is_kept(
    export: tuple[Protocol, bytes], tmp_path: Path
) -> None:
    protocol, content = export
    kept = _imported(tmp_path / "a", protocol, content, keep=True)
    inline = _imported(tmp_path / "b", protocol, content, keep=False)
    leave_out = ("import_source", "import_source_chunk")

    def plain(store: Store) -> dict[str, list[tuple[object, ...]]]:
        # times differ between the two imports; everything else must not
        return {t: [tuple(v for v in row if not (isinstance(v, str) and v[:2] == "20"
                                                  and "T" in v)) for row in rows]
                for t, rows in dump_tables(store, leave_out=leave_out).items()}  # fmt: skip

    assert plain(kept) == plain(inline)
    assert verify_store(inline).problems == ()
    assert "source" not in _casebook_entries(inline)[0]


def test_a_stored_imported_value_changed_behind_the_trail_is_named(
    export: tuple[Protocol, bytes], tmp_path: Path
) -> None:
    protocol, content = export
    store = _imported(tmp_path, protocol, content, keep=True)
    with store.engine.begin() as connection:
        first = connection.scalar(text("SELECT min(id) FROM assessment WHERE instrument='pga'"))
        connection.execute(text("UPDATE assessment SET total = 4 WHERE id = :id"), {"id": first})
    problems = verify_store(store).problems
    assert len(problems) == 1
    assert (
        problems[0] == f"assessment {first}: total is 4.0 in the table but 3.0 in the audit trail"
    )


def test_a_kept_file_changed_after_the_import_is_found(
    export: tuple[Protocol, bytes], tmp_path: Path
) -> None:
    protocol, content = export
    store = _imported(tmp_path, protocol, content, keep=True)
    doctored = content.replace(b",female,", b",male,", 1)
    assert doctored != content
    data = base64.b64encode(zlib.compress(doctored)).decode()
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE import_source_chunk SET data = :d"), {"d": data})
    problems = verify_store(store).problems
    # each casebook read from it says so, and nothing else is listed for its records
    assert len(problems) == 6
    assert all("was changed after it was imported" in p for p in problems)


def test_a_kept_file_that_is_missing_is_found(
    export: tuple[Protocol, bytes], tmp_path: Path
) -> None:
    protocol, content = export
    store = _imported(tmp_path, protocol, content, keep=True)
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM import_source_chunk"))
        connection.execute(text("DELETE FROM import_source"))
    problems = verify_store(store).problems
    assert any("is not kept in the database" in p for p in problems)


def test_a_record_history_starts_with_the_values_replayed_from_the_kept_file(
    export: tuple[Protocol, bytes], tmp_path: Path
) -> None:
    protocol, content = export
    store = _imported(tmp_path, protocol, content, keep=True)
    with store.engine.connect() as connection:
        visit = connection.execute(text("SELECT id, visit_code, visit_date FROM visit "
                                        "ORDER BY id DESC LIMIT 1")).one()  # fmt: skip
        history = audit_history(connection, table="visit", record=visit.id)
    assert [h["action"] for h in history] == ["insert"]
    values = json.loads(history[0]["new"])
    assert (values["id"], values["visit_code"], values["visit_date"]) == tuple(visit)


def test_a_bundle_carries_the_kept_file_and_is_checked_against_it(
    export: tuple[Protocol, bytes], tmp_path: Path
) -> None:
    protocol, content = export
    store = _imported(tmp_path, protocol, content, keep=True)
    export_bundle(store, tmp_path / "bundle", fmt="csv")
    target = new_store(tmp_path / "copy.sqlite3")
    counts = import_bundle(target, tmp_path / "bundle", user="dm", reason="copy")
    assert counts["import_source"] == 1
    assert verify_store(target).problems == ()


def test_the_reader_refuses_a_file_that_is_not_utf8(export: tuple[Protocol, bytes]) -> None:
    from pustula.errors import DataValidationError

    protocol, _ = export
    with pytest.raises(DataValidationError, match="line 2: the file is not UTF-8 text"):
        read_source(b"record_id\n\xff\xfe\n", protocol, {})


def test_a_kept_source_with_an_unknown_reader_is_refused() -> None:
    from pustula.store.audit.sources import reader_named

    with pytest.raises(AuditError, match="no reader for imports of kind `spss`"):
        reader_named("spss")


def test_parse_and_read_source_give_the_same_subjects(export: tuple[Protocol, bytes]) -> None:
    protocol, content = export
    parsed = parse_records(content.decode(), protocol)
    assert [s.code for s in read_source(content, protocol, {})] == [s.code for s in parsed]


def test_on_each_database_the_kept_file_replays_and_a_change_is_named(
    export: tuple[Protocol, bytes], store: Store
) -> None:
    """PostgreSQL loads the rows with COPY, SQLite with batched inserts: the same check."""
    from pustula.store import add_study

    protocol, content = export
    with store.transaction(user="t") as tx:
        add_study(tx, protocol, sites=[("SITE1", "Site 1"), ("SITE2", "Site 2")])
    source = ImportSource("records.csv", content, "redcap-records")
    subjects = read_source(content, protocol, {})
    assert import_subjects(store, "importer", subjects, reason="m", source=source) == 6
    assert verify_store(store).problems == ()
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE visit SET visit_date = '2024-12-31' WHERE id = 2"))
    problems = verify_store(store).problems
    assert len(problems) == 1 and problems[0].startswith("visit 2: visit_date is")


def test_a_history_reads_only_its_casebooks_bytes_of_a_file_read_a_part_at_a_time(
    export: tuple[Protocol, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file streamed by the import: each entry holds its rows' byte offsets, and a
    record's history reads those pieces of the kept file only (small pieces here, so that
    a casebook spans several), checked against the hash of the values stored."""
    from pustula.interop.redcap_stream import stream_records
    from pustula.store.audit import sources

    monkeypatch.setattr(sources, "CHUNK", 1000)
    protocol, content = export
    store = empty_copy(tmp_path, protocol)
    source = ImportSource("records.csv", content, "redcap-records")
    import_subjects(store, "importer", stream_records(content, protocol, {}), reason="m",
                    source=source)  # fmt: skip
    entries = _casebook_entries(store)
    header_end = content.index(b"\n") + 1
    assert all(e["bytes"][0] == [0, header_end] for e in entries)  # type: ignore[index]
    last = entries[-1]["bytes"]
    assert content[last[1][0] : last[1][1]].startswith(b"S06,")  # type: ignore[index]
    with store.engine.connect() as connection:
        pieces = connection.scalar(text("SELECT count(*) FROM import_source_chunk"))
        visit = connection.execute(text("SELECT id, visit_code FROM visit ORDER BY id DESC "
                                        "LIMIT 1")).one()  # fmt: skip
        history = audit_history(connection, table="visit", record=visit.id)
    assert pieces > 10
    assert [h["action"] for h in history] == ["insert"]
    assert json.loads(history[0]["new"])["visit_code"] == visit.visit_code
    assert verify_store(store).problems == ()
    # a doctored piece: the history shows the import without values it cannot vouch for
    with store.engine.begin() as connection:
        damaged = base64.b64encode(zlib.compress(b"x" * 1000)).decode()
        connection.execute(text("UPDATE import_source_chunk SET data = :d"), {"d": damaged})
        assert audit_history(connection, table="visit", record=visit.id) == []
