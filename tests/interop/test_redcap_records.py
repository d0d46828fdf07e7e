"""REDCap records out and in: the round trip gives the same study, and a broken export is
refused whole, naming record, event, field and value, with the database untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from pustula.demo import create_demo_study
from pustula.errors import DataValidationError
from pustula.interop.redcap_records import FieldMapping, export_records, parse_records
from pustula.protocol import Protocol
from pustula.store import Store, get_study
from pustula.store.records.study import protocol_of
from pustula.store.services.clinical import casebooks, import_subjects
from tests.interop.helpers import empty_copy, new_store, study_content


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Protocol, str]:
    store = new_store(tmp_path_factory.mktemp("redcap") / "demo.sqlite3")
    create_demo_study(store)
    with store.reader() as session:
        protocol = protocol_of(get_study(session))
    return store, protocol, export_records(casebooks(store), protocol)


def test_pustula_to_redcap_to_pustula_gives_the_same_study(
    source: tuple[Store, Protocol, str], tmp_path: Path
) -> None:
    store, protocol, text = source
    target = empty_copy(tmp_path, protocol)
    subjects = parse_records(text, protocol)
    assert import_subjects(target, "importer", subjects, reason="REDCap migration") == 6
    assert study_content(target) == study_content(store)


def _broken(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("record_id,", "subject,", 1), "no `record_id` column"),
        (lambda t: _broken(t, "week_4_arm_1", "week_5_arm_1"),
         "event week_5_arm_1: the event is not a visit of the protocol"),
        (lambda t: _broken(t, ",female,", ",forty-two,"),
         "record S01, event week_0_arm_1, field sex: `forty-two` is not one of"),
        (lambda t: _broken(t, ",42,", ",forty,"),
         "record S01, event week_0_arm_1, field age: `forty` is not a number"),
        (lambda t: t + t.splitlines()[1] + "\n", "the record appears twice for this event"),
        (lambda t: t[: len(t) // 2].rsplit(",", 3)[0] + "\n", "fewer values than columns"),
        (lambda t: _broken(t, ",Nasopharyngitis,", ",Nasopharyngitis,").replace(
            ",2024-03-24,2024-03-31,1,", ",2024-03-24,2024-03-31,mild,", 1),
         "record S01, event week_0_arm_1, adverse event 1, field ae_grade: `mild` is not a"),
        (lambda t: _broken(t, ",2024-03-24,2024-03-31,", ",2024-03-24,2024-02-30,"),
         "adverse event 1, field ae_end: `2024-02-30` is not a date"),
        (lambda t: _broken(t, ",neutrophils,950,", ",neutrophils,-950,"),
         "record S06, event week_0_arm_1, lab"),
    ],
)  # fmt: skip
def test_a_broken_export_is_refused_whole_naming_where(
    source: tuple[Store, Protocol, str], tmp_path: Path, change: object, message: str
) -> None:
    _, protocol, text = source
    target = empty_copy(tmp_path, protocol)
    with pytest.raises(DataValidationError, match=message):
        subjects = parse_records(change(text), protocol)  # type: ignore[operator]
        import_subjects(target, "importer", subjects, reason="REDCap migration")
    assert casebooks(target) == []  # nothing was saved


def test_a_text_value_in_a_score_is_named_and_nothing_is_saved(
    source: tuple[Store, Protocol, str], tmp_path: Path
) -> None:
    _, protocol, text = source
    lines = text.splitlines()
    header = lines[0].split(",")
    column = header.index("right_sole_pustules")
    for i, line in enumerate(lines[1:], start=1):
        cells = line.split(",")
        if cells[0] == "S04" and cells[1] == "week_4_arm_1":
            cells[column] = "severe"
            lines[i] = ",".join(cells)
    target = empty_copy(tmp_path, protocol)
    with pytest.raises(DataValidationError, match=r"record S04, event week_4_arm_1: .*severe"):
        import_subjects(target, "importer", parse_records("\n".join(lines), protocol),
                        reason="REDCap migration")  # fmt: skip
    assert casebooks(target) == []


def test_a_mapping_names_another_projects_events_and_fields(
    source: tuple[Store, Protocol, str], tmp_path: Path
) -> None:
    _, protocol, text = source
    renamed = text.replace("week_4_arm_1", "month_1_arm_1").replace("pga", "physician_ga")
    mapping = FieldMapping.for_protocol(
        protocol, {"events": {"month_1_arm_1": "W4"}, "fields": {"physician_ga": "pga"}}
    )
    subjects = parse_records(renamed, protocol, mapping)
    w4 = next(v for v in subjects[0].visits if v.visit_code == "W4")
    assert w4.assessments["pga"] == {"pga": 1}
    with pytest.raises(DataValidationError, match="only `events` and `fields`"):
        FieldMapping.for_protocol(protocol, {"forms": {}})


def test_medications_and_the_end_of_participation_survive_the_round_trip(tmp_path: Path) -> None:
    from datetime import date

    from pustula.store.records.casebook import end_participation
    from pustula.store.records.safety import add_con_med
    from pustula.store.records.study import get_subject

    store = new_store(tmp_path / "source.sqlite3")
    create_demo_study(store)
    with store.transaction(user="t", reason="follow-up") as tx:
        study = get_study(tx.session)
        add_con_med(tx, get_subject(tx.session, study, "S02"), {
            "drug": "cetirizine", "indication": "itch", "dose": "10 mg daily",
            "start_date": date(2024, 4, 1)})  # fmt: skip
        end_participation(tx, get_subject(tx.session, study, "S03"), outcome="withdrawn",
                          ended_on=date(2024, 6, 3), reason="moved away",
                          last_contact=date(2024, 6, 3), last_dose=date(2024, 6, 1))  # fmt: skip
    with store.reader() as session:
        protocol = protocol_of(get_study(session))
    text = export_records(casebooks(store), protocol)
    assert "con_med,1," in text and "withdrawn" in text
    target = empty_copy(tmp_path, protocol)
    import_subjects(target, "importer", parse_records(text, protocol), reason="migration")
    assert study_content(target) == study_content(store)


def test_an_unknown_repeating_form_is_refused(source: tuple[Store, Protocol, str]) -> None:
    _, protocol, text = source
    broken = text.replace(",adverse_event,1,", ",side_effects,1,", 1)
    with pytest.raises(DataValidationError, match="`side_effects` is not a repeating form"):
        parse_records(broken, protocol)


def test_randomly_damaged_exports_are_refused_whole_or_imported_never_a_crash(
    source: tuple[Store, Protocol, str], tmp_path: Path
) -> None:
    import csv
    import io
    import random

    from pustula.errors import PustulaError

    _, protocol, text = source
    rows = list(csv.reader(io.StringIO(text)))
    rng = random.Random(20261129)
    junk = ["", "x", "-1", "9999-99-99", "1e400", "nan", "2024-02-30", "   ", "∞", "1,5", "no"]
    refusals = []
    for attempt in range(60):
        damaged = [list(r) for r in rows]
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(1, len(damaged))][rng.randrange(len(damaged[0]))] = (
                rng.choice(junk))  # fmt: skip
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(damaged)
        folder = tmp_path / str(attempt)
        folder.mkdir()
        target = empty_copy(folder, protocol)
        try:
            import_subjects(target, "fuzz", parse_records(out.getvalue(), protocol),
                            reason="fuzz")  # fmt: skip
        except PustulaError as error:  # any other exception fails the test
            refusals.append((error.message, casebooks(target)))
    assert refusals  # the damage was mostly refused ...
    for message, saved in refusals:
        assert "record " in message or "line " in message, message  # ... saying where
        assert saved == []  # ... with nothing saved


def _with_columns(text: str, fill: dict[str, object]) -> str:
    """The export with more columns, each filled per row by ``fill[name](row)``."""
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.DictWriter(out, [*rows[0].keys(), *fill], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row | {name: f(row) for name, f in fill.items()})  # type: ignore[operator]
    return out.getvalue()


def test_a_file_as_redcap_writes_it_imports_the_same_study(
    source: tuple[Store, Protocol, str],
) -> None:
    """REDCap's "export records" (CSV, raw) starts with a UTF-8 byte-order mark when saved
    from Excel, and has a ``{form}_complete`` status column per form (0 incomplete,
    1 unverified, 2 complete) and the values of calculated fields. None of them may change
    what is imported; before, the mark alone made the file "have no `record_id` column"."""
    _, protocol, text = source

    def status(filled: str) -> object:
        return lambda row: "2" if row[filled] else ""

    redcap = "\ufeff" + _with_columns(text, {
        "screening_complete": status("screened_on"),
        "pppasi_complete": status("right_palm_erythema"),
        "adverse_event_complete": status("ae_term"),
        "pppasi_right_palm": lambda row: "1.2" if row["right_palm_erythema"] else "",  # calc
    })  # fmt: skip
    assert parse_records(redcap, protocol) == parse_records(text, protocol)


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        # a checkbox holds 1 or 0; a 2 was imported as "not ticked" before
        (("S01", "week_0_arm_1", ""), "triggers___stress", "2",
         r"line 2, record S01, event week_0_arm_1, field triggers___stress: a checkbox column "
         r"holds 1 \(ticked\) or 0 \(not ticked\); got `2`"),
        (("S01", "week_0_arm_1", "adverse_event"), "ae_serious_criteria___death", "yes",
         "field ae_serious_criteria___death: a checkbox column holds 1"),
        # a value in another form's field: an AE term on a visit row was dropped before
        (("S02", "week_4_arm_1", ""), "ae_term", "Rash",
         r"record S02, event week_4_arm_1, field ae_term: the field belongs to the form "
         r"`adverse_event`, which this row does not hold .* its value `Rash` would be lost"),
        # a lab row holds the lab form only
        (("S06", "week_0_arm_1", "lab"), "pga", "2",
         r"field pga: the field belongs to the form `ppp_pga`, which this row does not hold "
         r"\(it holds the lab form\)"),
        # the screening form is collected at week 0 only
        (("S03", "week_12_arm_1", ""), "smoking", "never",
         "event week_12_arm_1, field smoking: the field belongs to the form `screening`"),
    ],
)  # fmt: skip
def test_a_cell_that_would_be_lost_is_refused_naming_its_line(
    source: tuple[Store, Protocol, str], row: tuple[str, str, str], column: str, value: str,
    message: str,
) -> None:  # fmt: skip
    import csv
    import io

    _, protocol, text = source
    rows = list(csv.DictReader(io.StringIO(text)))
    index = next(i for i, r in enumerate(rows) if (r["record_id"], r["redcap_event_name"],
                 r["redcap_repeat_instrument"]) == row)  # fmt: skip
    rows[index][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with pytest.raises(DataValidationError, match=message) as caught:
        parse_records(out.getvalue(), protocol)
    assert f"line {index + 2}," in str(caught.value)  # the header is line 1


def test_a_line_number_counts_the_line_breaks_inside_quoted_cells(
    source: tuple[Store, Protocol, str],
) -> None:
    _, protocol, text = source
    # a two-line term in S01's first AE (a quoted cell with a line break) ...
    multi = text.replace(",Nasopharyngitis,", ',"Naso-\npharyngitis",', 1)
    # ... then a broken age on S02's baseline row, which now starts one line further down
    broken = multi.replace(",58,", ",fifty-eight,", 1)
    where = next(i for i, line in enumerate(multi.splitlines(), start=1)
                 if line.startswith("S02,week_0_arm_1,,"))  # fmt: skip
    with pytest.raises(DataValidationError, match=rf"^line {where}, record S02, .*field age"):
        parse_records(broken, protocol)
