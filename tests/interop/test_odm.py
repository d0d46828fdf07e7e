"""ODM 1.3.2 out and in: schema-valid, the round trip gives the same study, and a broken file
is refused whole with the database untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from pustula.demo import create_demo_study
from pustula.errors import DataValidationError
from pustula.interop.odm import export_odm, read_odm, validate_odm
from pustula.protocol import Protocol
from pustula.store import Store
from pustula.store.services.clinical import casebooks, import_subjects, study_protocol
from tests.interop.helpers import empty_copy, new_store, study_content


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Protocol, Path]:
    store = new_store(tmp_path_factory.mktemp("odm") / "demo.sqlite3")
    create_demo_study(store)
    protocol = study_protocol(store)
    path = tmp_path_factory.mktemp("odm-out") / "study.xml"
    export_odm(casebooks(store), protocol, path)
    return store, protocol, path


def test_the_export_is_valid_odm_1_3_2_with_metadata_and_data(source) -> None:
    _, _, path = source
    validate_odm(path)
    text = path.read_text()
    assert 'ODMVersion="1.3.2"' in text
    assert '<StudyEventDef OID="SE.week_4_arm_1" Name="Week 4"' in text
    assert '<SubjectData SubjectKey="S01">' in text
    assert 'ItemOID="IT.right_palm_pustules"' in text


def test_pustula_to_odm_to_pustula_gives_the_same_study(source, tmp_path: Path) -> None:
    store, protocol, path = source
    target = empty_copy(tmp_path, protocol)
    assert import_subjects(target, "importer", read_odm(path, protocol), reason="ODM") == 6
    assert study_content(target) == study_content(store)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '<StudyEventData StudyEventOID="SE.week_4_arm_1"',
            '<StudyEventData StudyEventOID="SE.week_5_arm_1"',
            "record S01, event week_5_arm_1: the event is not a visit",
        ),
        (
            'ItemOID="IT.age" Value="42"',
            'ItemOID="IT.age" Value="forty-two"',
            "record S01, event week_0_arm_1, field age: `forty-two` is not a number",
        ),
        ('<SubjectData SubjectKey="S01">', "<SubjectData>", "not valid ODM 1.3.2"),
        ("</ODM>", "", "is not XML"),
    ],
)
def test_a_broken_file_is_refused_and_nothing_is_saved(
    source, tmp_path: Path, old: str, new: str, message: str
) -> None:
    _, protocol, path = source
    text = path.read_text()
    assert old in text
    broken = tmp_path / "broken.xml"
    broken.write_text(text.replace(old, new, 1))
    target = empty_copy(tmp_path, protocol)
    with pytest.raises(DataValidationError, match=message):
        import_subjects(target, "importer", read_odm(broken, protocol), reason="ODM")
    assert casebooks(target) == []
