"""A records file read a part at a time imports exactly what the whole file imports, and
refuses exactly what it refuses, naming the same line of the whole file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pustula.demo import create_demo_study
from pustula.errors import DataValidationError
from pustula.interop.redcap_records import FieldMapping, export_records, parse_records
from pustula.interop.redcap_stream import RecordStream
from pustula.protocol import Protocol
from pustula.store import get_study
from pustula.store.records.study import protocol_of
from pustula.store.services.clinical import casebooks, import_subjects
from tests.interop.helpers import empty_copy, new_store
from tests.store.helpers import dump_tables


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Protocol, str]:
    store = new_store(tmp_path_factory.mktemp("demo") / "demo.sqlite3")
    create_demo_study(store)
    with store.reader() as session:
        protocol = protocol_of(get_study(session))
    return protocol, export_records(casebooks(store), protocol)


def _stream(text: str, protocol: Protocol, part: int) -> RecordStream:
    return RecordStream(text.encode(), protocol, FieldMapping.for_protocol(protocol), part=part)


def _without_times(store: object) -> dict[str, list[tuple[object, ...]]]:
    def plain(row: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(v for v in row if not (isinstance(v, str) and v[:2] == "20" and "T" in v))

    return {t: [plain(r) for r in rows] for t, rows in dump_tables(store).items()}  # type: ignore[arg-type]


def _scrambled(text: str) -> str:
    """The same rows with each record's repeating-form rows moved to the end of the file:
    a record's rows need not be side by side."""
    header, *rows = text.splitlines(keepends=True)
    plain = [r for r in rows if r.split(",")[2] == ""]  # no repeating instrument
    moved = [r for r in rows if r.split(",")[2] != ""]
    return header + "".join(plain) + "".join(moved)


@pytest.mark.parametrize("part", [1, 2, 4, 100])
@pytest.mark.parametrize("scramble", [False, True])
def test_parts_import_the_same_rows_as_the_whole_file(
    export: tuple[Protocol, str], tmp_path: Path, part: int, scramble: bool
) -> None:
    protocol, text = export
    if scramble:
        text = _scrambled(text)
        assert text != export[1] and sorted(text.splitlines()) == sorted(export[1].splitlines())
    (tmp_path / "whole").mkdir()
    (tmp_path / "parts").mkdir()
    whole = empty_copy(tmp_path / "whole", protocol)
    parts = empty_copy(tmp_path / "parts", protocol)
    import_subjects(whole, "importer", parse_records(text, protocol), reason="whole")
    stream = _stream(text, protocol, part)
    assert import_subjects(parts, "importer", stream, reason="parts") == stream.count == 6
    assert stream.visits == sum(len(s.visits) for s in parse_records(text, protocol))
    assert _without_times(parts) == _without_times(whole)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (",female,", ",forty-two,"),  # a bad code in the third record's screening row
        (",42,", ",forty,"),
        ("week_4_arm_1", "week_5_arm_1"),
    ],
)
def test_a_bad_value_is_named_with_the_same_line_as_the_whole_file_names(
    export: tuple[Protocol, str], old: str, new: str
) -> None:
    protocol, text = export
    broken = _scrambled(text).replace(old, new, 1)
    with pytest.raises(DataValidationError) as whole:
        parse_records(broken, protocol)
    with pytest.raises(DataValidationError) as parts:
        for _ in _stream(broken, protocol, 2).parts():
            pass
    assert parts.value.message == whole.value.message
    assert parts.value.message.startswith("line ")


def test_a_broken_row_is_named_before_any_part_is_read(export: tuple[Protocol, str]) -> None:
    protocol, text = export
    lines = text.splitlines(keepends=True)
    lines[-3] = lines[-3].rsplit(",", 4)[0] + "\n"  # a truncated row near the end
    broken = "".join(lines)
    with pytest.raises(DataValidationError) as whole:
        parse_records(broken, protocol)
    stream = _stream(broken, protocol, 2)
    with pytest.raises(DataValidationError) as parts:
        next(stream.parts())
    assert parts.value.message == whole.value.message
    assert f"line {len(lines) - 2}" in parts.value.message


def test_a_file_without_record_ids_is_refused_at_once(export: tuple[Protocol, str]) -> None:
    protocol, text = export
    with pytest.raises(DataValidationError, match="no `record_id` column"):
        _stream(text.replace("record_id,", "subject,", 1), protocol, 2)


def test_a_byte_order_mark_is_skipped_and_bytes_that_are_not_utf8_are_named(
    export: tuple[Protocol, str],
) -> None:
    protocol, text = export
    with_bom = RecordStream(b"\xef\xbb\xbf" + text.encode(), protocol,
                            FieldMapping.for_protocol(protocol), part=2)  # fmt: skip
    assert [s.code for part in with_bom.parts() for s in part] == [
        s.code for s in parse_records(text, protocol)
    ]
    lines = text.encode().splitlines(keepends=True)
    lines[3] = lines[3].replace(b",", b",\xff", 1)
    with pytest.raises(DataValidationError, match="line 4: the file is not UTF-8 text"):
        _stream_bytes(b"".join(lines), protocol)


def _stream_bytes(content: bytes, protocol: Protocol) -> RecordStream:
    return RecordStream(content, protocol, FieldMapping.for_protocol(protocol), part=2)
