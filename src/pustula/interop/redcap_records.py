"""REDCap records: a longitudinal export of the study's casebooks, and its import.

The export is what REDCap's "export records" gives for the dictionary of
:mod:`pustula.interop.redcap` (raw values, one row per record and event, checkbox columns
``field___code``, prior therapies as a repeating instrument). The import reads such a
file, or one from a REDCap project whose fields and events a mapping names, and returns
the subjects to enrol with their visits; the store saves them all or nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import compress
from typing import Any

from pustula.checks.vocabulary import CODELISTS, DLQI_ITEMS
from pustula.errors import DataValidationError
from pustula.interop.redcap import (
    NOT_RELEVANT,
    PRIOR_FORM,
    REPEATING,
    SCREENING_LABS,
    SCREENS,
    YES,
    data_dictionary,
    event_name,
)
from pustula.interop.redcap_layout import CHECKBOX_CODELISTS, RowLayout
from pustula.protocol import Protocol
from pustula.scoring import PPPASI
from pustula.store.services.clinical import Casebook, ImportedRecord, ImportedSubject, ImportedVisit
from pustula.store.transfer.bulk import paused_gc

__all__ = [
    "CHECKBOXES",
    "FieldMapping",
    "export_records",
    "fetch_records",
    "metadata_json",
    "parse_records",
    "read_source",
]

CHECKBOXES = CHECKBOX_CODELISTS
_PPPASI_ITEMS = tuple(f["name"] for f in PPPASI.metadata()["fields"]
                      if not f["name"].endswith("_area_score"))  # fmt: skip
_INSTRUMENT_FIELDS = {"pppasi": _PPPASI_ITEMS, "pga": ("pga",), "pain_nrs": ("pain_nrs",),
                      "itch_nrs": ("itch_nrs",), "dlqi": tuple(DLQI_ITEMS)}  # fmt: skip
_SPECIAL = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance")


@dataclass(frozen=True)
class FieldMapping:
    """REDCap event and field names to Pustula's visits and fields (identity by default)."""

    events: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_protocol(
        cls, protocol: Protocol, given: Mapping[str, Any] | None = None
    ) -> FieldMapping:
        events = {event_name(v.label): v.code for v in protocol.visits}
        given = dict(given or {})
        unknown = set(given) - {"events", "fields"}
        if unknown:
            raise DataValidationError(
                f"mapping: only `events` and `fields` can be mapped; got `{sorted(unknown)[0]}`"
            )
        fields = {str(k): str(v) for k, v in dict(given.get("fields") or {}).items()}
        return cls({**events, **dict(given.get("events") or {})}, fields)


def _columns() -> list[str]:
    names = ["record_id", *_SPECIAL]
    for row in data_dictionary(None):
        if row.name == "record_id" or row.kind == "calc":
            continue
        if row.kind == "checkbox":
            names += [f"{row.name}___{code}" for code in CODELISTS[CHECKBOXES[row.name]]]
        else:
            names.append(row.name)
    return names


def _answer(value: Any) -> str:
    if value is None:
        return ""
    if value == "not_relevant":
        return NOT_RELEVANT
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def export_records(casebooks: Iterable[Casebook], protocol: Protocol) -> str:
    """The casebooks as a REDCap longitudinal records export (raw values, CSV)."""
    columns = _columns()
    baseline_event = event_name(protocol.baseline_visit.label)
    rows: list[dict[str, str]] = []
    for book in casebooks:
        r = book.records
        base = r.baseline[0] if r.baseline else None
        row = {"record_id": book.subject.code, "redcap_event_name": baseline_event,
               "site": book.site, "screened_on": book.subject.screened_on.isoformat()}  # fmt: skip
        if base is not None:
            row |= {"age": _answer(base.age), "sex": base.sex,
                    "disease_duration_months": _answer(base.disease_duration_months),
                    "eraspen_ppp": _answer(base.eraspen_ppp), "smoking": base.smoking,
                    "pack_years": _answer(base.pack_years),
                    **{test: result for test, result in base.screening.items()}}  # fmt: skip
            for name in ("triggers", "comorbidities"):
                codelist = CHECKBOXES[name]
                chosen = set(getattr(base, name))
                row |= {f"{name}___{c}": "1" if c in chosen else "0" for c in CODELISTS[codelist]}
        screened = book.subject.screened_on
        for lab in r.lab:
            if lab.sample_date == screened and f"lab_{lab.test}" in SCREENING_LABS:
                row[f"lab_{lab.test}"] = _answer(lab.value)
        visits = {v.visit_code: v for v in r.visit if v.status == "done"}
        by_visit: dict[int, list[Any]] = {}
        for a in r.assessment:
            by_visit.setdefault(a.visit_id, []).append(a)
        rows_of_subject = [row]
        for v in protocol.visits:
            visit = visits.get(v.code)
            if visit is None or visit.visit_date is None:
                continue
            target = row if v.baseline else {"record_id": book.subject.code,
                                             "redcap_event_name": event_name(v.label)}  # fmt: skip
            target["visit_date"] = visit.visit_date.isoformat()
            for a in by_visit.get(visit.id, []):
                target |= {k: _answer(val) for k, val in a.items.items()}
            if target is not row:
                rows_of_subject.append(target)
        for i, prior in enumerate(r.prior_therapy, start=1):
            rows_of_subject.append({
                "record_id": book.subject.code, "redcap_event_name": baseline_event,
                "redcap_repeat_instrument": PRIOR_FORM, "redcap_repeat_instance": str(i),
                "prior_drug": prior.drug, "prior_category": prior.category,
                "prior_response": prior.response,
            })  # fmt: skip
        for form, values in _repeats(book):
            for i, fields in enumerate(values, start=1):
                rows_of_subject.append({
                    "record_id": book.subject.code, "redcap_event_name": baseline_event,
                    "redcap_repeat_instrument": form, "redcap_repeat_instance": str(i),
                    **fields})  # fmt: skip
        row |= _end_fields(book)
        rows += rows_of_subject
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _day(value: Any) -> str:
    return "" if value is None else value.isoformat()


def _repeats(book: Casebook) -> list[tuple[str, list[dict[str, str]]]]:
    """The casebook's exposures, interruptions, AEs, labs and medications as form values;
    screening labs are on the screening form already."""
    r, screened = book.records, book.subject.screened_on
    on_screening = {(f"lab_{x.test}", x.sample_date) for x in r.lab
                    if x.sample_date == screened and f"lab_{x.test}" in SCREENING_LABS}  # fmt: skip
    shown_once: set[str] = set()

    def repeat_lab(x: Any) -> bool:
        key = f"lab_{x.test}"
        if (key, x.sample_date) in on_screening and key not in shown_once:
            shown_once.add(key)
            return False
        return True

    return [
        ("exposure", [{"exposure_drug": e.drug, "exposure_dose": _answer(e.dose),
                       "exposure_unit": e.unit, "exposure_frequency": e.frequency,
                       "exposure_start": _day(e.start_date), "exposure_end": _day(e.end_date)}
                      for e in r.exposure]),
        ("interruption", [{"interruption_start": _day(i.start_date),
                           "interruption_end": _day(i.end_date), "interruption_cause": i.cause}
                          for i in r.exposure_interruption]),
        ("adverse_event", [{
            "ae_term": a.term, "ae_pt_code": a.meddra_pt_code or "", "ae_pt": a.meddra_pt or "",
            "ae_soc_code": a.meddra_soc_code or "", "ae_soc": a.meddra_soc or "",
            "ae_start": _day(a.start_date), "ae_end": _day(a.end_date),
            "ae_grade": str(a.grade), "ae_serious": _answer(a.serious),
            **{f"ae_serious_criteria___{c}": "1" if c in a.serious_criteria else "0"
               for c in CODELISTS["serious_criterion"]},
            "ae_relatedness": a.relatedness, "ae_action": a.action_taken,
            "ae_outcome": a.outcome, "ae_worsened": _answer(a.worsened_on_treatment),
        } for a in r.adverse_event]),
        ("lab", [{"lab_test": x.test, "lab_value": _answer(x.value), "lab_unit": x.unit,
                  "lab_lower": _answer(x.lower_limit), "lab_upper": _answer(x.upper_limit),
                  "lab_date": _day(x.sample_date)} for x in r.lab if repeat_lab(x)]),
        ("con_med", [{"cm_drug": m.drug, "cm_indication": m.indication, "cm_dose": m.dose,
                      "cm_start": _day(m.start_date), "cm_end": _day(m.end_date)}
                     for m in r.con_med]),
    ]  # fmt: skip


def _end_fields(book: Casebook) -> dict[str, str]:
    s = book.subject
    if s.status not in ("withdrawn", "completed"):
        return {}
    return {"end_outcome": s.status, "end_date": _day(s.ended_on),
            "end_reason": s.end_reason or "", "end_last_contact": _day(s.last_contact)}  # fmt: skip


# -- import --------------------------------------------------------------------------------


@dataclass
class _Record:
    code: str
    baseline: dict[str, str] = field(default_factory=dict)
    baseline_line: int | None = None
    priors: list[dict[str, str]] = field(default_factory=list)
    repeats: list[ImportedRecord] = field(default_factory=list)
    visits: list[ImportedVisit] = field(default_factory=list)
    lines: list[tuple[int, int]] = field(default_factory=list)

    def add_lines(self, first: int, last: int) -> None:
        """Note the lines of one of its rows (adjacent rows make one span)."""
        if self.lines and self.lines[-1][1] + 1 == first:
            self.lines[-1] = (self.lines[-1][0], last)
        else:
            self.lines.append((first, last))


def _choice(value: str, codelist: str, where: str) -> str:
    """A raw code, or the label of one (REDCap's "labels" export)."""
    entries = CODELISTS[codelist]
    if value in entries:
        return value
    by_label = {text.lower(): code for code, text in entries.items()}
    if value.lower() in by_label:
        return by_label[value.lower()]
    raise DataValidationError(f"{where}: `{value}` is not one of {', '.join(entries)}")


def _number(value: str, where: str, *, whole: bool = False) -> float | int | None:
    if value.strip() == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise DataValidationError(f"{where}: `{value}` is not a number") from None
    if whole:
        if not number.is_integer():
            raise DataValidationError(f"{where}: `{value}` is not a whole number")
        return int(number)
    return number


def _item(text: str) -> object:
    """An item's value from its (stripped) cell."""
    if text == "":
        return None
    try:
        return int(text)  # most items are whole numbers: the quick way first
    except ValueError:
        pass
    if text == NOT_RELEVANT:
        return "not_relevant"
    if text == YES:
        return "yes"
    try:
        number = float(text)
    except ValueError:
        return text  # the scorer names what is wrong with it
    return int(number) if number.is_integer() else number


def parse_records(
    text: str, protocol: Protocol, mapping: FieldMapping | None = None
) -> list[ImportedSubject]:
    """The subjects of a REDCap records export, ready to enrol with their visits.

    Refuses, naming the file's line, record, event, field and value: a missing
    ``record_id`` column, an event the mapping does not know, a record twice for the same
    event, a value that is not a number where one is needed, a code that is not in the
    list, a value in a field of another form than the row's (:class:`RowLayout`), a
    checkbox cell other than 0 or 1. A UTF-8 byte-order mark before the header, which
    REDCap and spreadsheet programs write, is skipped.
    """
    with paused_gc():
        return _parse(text, protocol, mapping or FieldMapping.for_protocol(protocol))


def _parse(
    text: str, protocol: Protocol, mapping: FieldMapping, line_of: Sequence[int] | None = None
) -> list[ImportedSubject]:
    """The subjects of ``text``; ``line_of[k]`` is the file's line number of its line k + 1
    when ``text`` holds only some of the file's lines (:mod:`.redcap_stream`)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = [mapping.fields.get(c, c) for c in next(reader, [])]
    layout = RowLayout.for_protocol(protocol)
    if "record_id" not in header:
        raise DataValidationError("the file has no `record_id` column: is it a REDCap export?")
    records: dict[str, _Record] = {}
    seen: set[tuple[str, str, str]] = set()
    baseline_code = protocol.baseline_visit.code
    width = len(header)
    for line, last, values in _rows(reader, line_of):
        if not values:
            continue  # a blank line
        if len(values) > width:
            raise DataValidationError(f"line {line}: more values than columns (a broken row)")
        if len(values) < width:
            raise DataValidationError(
                f"line {line}: fewer values than columns (a truncated or broken row)"
            )
        # only the cells with a value: most of a row's hundred cells are blank, and a
        # million rows of them would not fit in memory side by side
        filled = filter(None, values)
        row = dict(zip(compress(header, values), map(str.strip, filled), strict=True))
        row.pop("", None)
        code = row.get("record_id", "")
        if not code:
            raise DataValidationError(f"line {line}: the record has no record_id")
        event = row.get("redcap_event_name", "") or event_name(protocol.baseline_visit.label)
        where = f"line {line}, record {code}, event {event}"
        if event not in mapping.events:
            raise DataValidationError(f"{where}: the event is not a visit of the protocol "
                                      f"(known: {', '.join(mapping.events)})")  # fmt: skip
        visit = mapping.events[event]
        record = records.setdefault(code, _Record(code))
        record.add_lines(line, last)
        instrument = row.get("redcap_repeat_instrument", "")
        instance = row.get("redcap_repeat_instance", "?")
        if instrument and instrument not in (PRIOR_FORM, *REPEATING):
            forms = ", ".join((PRIOR_FORM, *REPEATING))
            raise DataValidationError(
                f"{where}: `{instrument}` is not a repeating form of this project ({forms})"
            )
        layout.check(row, visit=visit, instrument=instrument, where=where)
        if instrument == PRIOR_FORM:
            record.priors.append(row | {"_where": f"{where}, prior therapy {instance}"})
            continue
        if instrument in REPEATING:
            where_form = f"{where}, {instrument.replace('_', ' ')} {instance}"
            record.repeats.append(_record(instrument, row | {"_where": where_form}))
            continue
        key = (code, event, row.get("redcap_repeat_instance", ""))
        if key in seen:
            raise DataValidationError(f"{where}: the record appears twice for this event")
        seen.add(key)
        if visit == baseline_code:
            record.baseline, record.baseline_line = row, line
        if row.get("visit_date"):
            record.visits.append(_visit(where, visit, row, protocol))
    return [_subject(r, protocol) for r in records.values()]


def _rows(reader: Any, line_of: Sequence[int] | None) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, values) of each row, numbered as in the whole file."""
    end = reader.line_num
    for values in reader:
        # a quoted cell may hold line breaks: a row starts where the last one ended
        first, end = end + 1, reader.line_num
        if line_of is None:
            yield first, end, values
        else:
            yield line_of[first - 1], line_of[end - 1], values


def _subject(record: _Record, protocol: Protocol) -> ImportedSubject:
    b = record.baseline
    base_event = event_name(protocol.baseline_visit.label)
    where = f"line {record.baseline_line}, record {record.code}, event {base_event}"
    if not b:
        where = f"record {record.code}, event {base_event}"
        raise DataValidationError(f"{where}: the screening form is missing")

    def at(name: str) -> str:
        return f"{where}, field {name}"

    baseline: dict[str, Any] = {
        "age": _number(b.get("age", ""), at("age"), whole=True),
        "sex": _choice(b.get("sex", ""), "sex", at("sex")),
        "disease_duration_months": _number(
            b.get("disease_duration_months", ""), at("disease_duration_months")
        ),
        "eraspen_ppp": {"1": True, "0": False, "yes": True, "no": False}.get(
            b.get("eraspen_ppp", "").lower()
        ),
        "smoking": _choice(b.get("smoking", ""), "smoking", at("smoking")),
        "pack_years": _number(b.get("pack_years", ""), at("pack_years")),
        "screening": {t: _choice(b[t], "screening_result", at(t)) for t in SCREENS if b.get(t)},
    }
    for name in ("triggers", "comorbidities"):
        codes = CODELISTS[CHECKBOXES[name]]
        baseline[name] = [c for c in codes if b.get(f"{name}___{c}") == "1"]
    labs = {n.removeprefix("lab_"): v for n in SCREENING_LABS
            if (v := _number(b.get(n, ""), at(n))) is not None}  # fmt: skip
    priors = [
        {"category": _choice(p.get("prior_category", ""), "prior_category",
                             f"{p['_where']}, field prior_category"),
         "drug": p.get("prior_drug", ""),
         "response": _choice(p.get("prior_response", ""), "prior_response",
                             f"{p['_where']}, field prior_response")}
        for p in record.priors
    ]  # fmt: skip
    try:
        screened = date.fromisoformat(b.get("screened_on", ""))
    except ValueError:
        raise DataValidationError(
            f"{at('screened_on')}: `{b.get('screened_on', '')}` is not a date (YYYY-MM-DD)"
        ) from None
    enrolment = {
        "code": record.code, "site": b.get("site", ""), "screened_on": screened,
        "baseline": baseline, "prior_therapies": priors, "screening_labs": labs,
    }  # fmt: skip
    return ImportedSubject(record.code, enrolment, record.visits, where, tuple(record.repeats),
                           _end(b, at), tuple(record.lines))  # fmt: skip


def _date(row: Mapping[str, str], name: str, *, required: bool = False) -> date | None:
    text = row.get(name, "").strip()
    where = f"{row['_where']}, field {name}" if "_where" in row else f"field {name}"
    if not text:
        if required:
            raise DataValidationError(f"{where}: the date is missing")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DataValidationError(f"{where}: `{text}` is not a date (YYYY-MM-DD)") from None


def _record(form: str, row: Mapping[str, str]) -> ImportedRecord:
    """One repeating-form instance as the record the store saves."""
    where = row["_where"]

    def number(name: str) -> float | None:
        return _number(row.get(name, ""), f"{where}, field {name}")

    def flag(name: str) -> bool:
        return row.get(name, "").strip().lower() in ("1", "yes")

    data: dict[str, Any]
    if form == "exposure":
        data = {"drug": row.get("exposure_drug", ""), "dose": number("exposure_dose"),
                "unit": row.get("exposure_unit", ""),
                "frequency": row.get("exposure_frequency", ""),
                "start_date": _date(row, "exposure_start", required=True),
                "end_date": _date(row, "exposure_end")}  # fmt: skip
    elif form == "interruption":
        data = {"start_date": _date(row, "interruption_start", required=True),
                "end_date": _date(row, "interruption_end"),
                "cause": row.get("interruption_cause", "")}  # fmt: skip
    elif form == "adverse_event":
        criteria = [c for c in CODELISTS["serious_criterion"]
                    if row.get(f"ae_serious_criteria___{c}") == "1"]  # fmt: skip
        data = {"term": row.get("ae_term", ""), "meddra_pt_code": row.get("ae_pt_code") or None,
                "meddra_pt": row.get("ae_pt") or None,
                "meddra_soc_code": row.get("ae_soc_code") or None,
                "meddra_soc": row.get("ae_soc") or None,
                "start_date": _date(row, "ae_start", required=True),
                "end_date": _date(row, "ae_end"),
                "grade": _number(row.get("ae_grade", ""), f"{where}, field ae_grade", whole=True),
                "serious": flag("ae_serious"), "serious_criteria": criteria,
                "relatedness": _choice(row.get("ae_relatedness", ""), "relatedness",
                                       f"{where}, field ae_relatedness"),
                "action_taken": _choice(row.get("ae_action", ""), "action_taken",
                                        f"{where}, field ae_action"),
                "outcome": _choice(row.get("ae_outcome", ""), "outcome",
                                   f"{where}, field ae_outcome"),
                "worsened_on_treatment": flag("ae_worsened")}  # fmt: skip
    elif form == "lab":
        data = {"test": row.get("lab_test", ""), "value": number("lab_value"),
                "unit": row.get("lab_unit", ""), "lower_limit": number("lab_lower"),
                "upper_limit": number("lab_upper"),
                "sample_date": _date(row, "lab_date", required=True)}  # fmt: skip
    else:
        data = {"drug": row.get("cm_drug", ""), "indication": row.get("cm_indication", ""),
                "dose": row.get("cm_dose", ""), "start_date": _date(row, "cm_start"),
                "end_date": _date(row, "cm_end")}  # fmt: skip
    return ImportedRecord(form, data, where)


def _end(b: Mapping[str, str], at: Any) -> dict[str, Any] | None:
    """The end of participation, when the end-of-study form is filled in."""
    if not b.get("end_outcome"):
        return None
    row = dict(b) | {"_where": at("end_outcome").rsplit(", field", 1)[0]}
    return {
        "outcome": _choice(b["end_outcome"], "end_outcome", at("end_outcome")),
        "ended_on": _date(row, "end_date", required=True),
        "reason": b.get("end_reason", ""),
        "last_contact": _date(row, "end_last_contact"),
    }


def _visit(where: str, visit: str, row: Mapping[str, str], protocol: Protocol) -> ImportedVisit:
    try:
        when = date.fromisoformat(row["visit_date"])
    except ValueError:
        raise DataValidationError(
            f"{where}, field visit_date: `{row['visit_date']}` is not a date (YYYY-MM-DD)"
        ) from None
    collected = protocol.visit(visit).instruments
    assessments: dict[str, dict[str, object]] = {}
    for instrument, names in _INSTRUMENT_FIELDS.items():
        cells = [row.get(n, "") for n in names]
        if instrument in collected or any(cells):
            assessments[instrument] = {n: _item(c) for n, c in zip(names, cells, strict=True)}
    return ImportedVisit(visit, when, assessments, where)


def read_source(
    content: bytes,
    protocol: Protocol,
    options: Mapping[str, Any],
    lines: Sequence[tuple[int, int]] | None = None,
) -> list[ImportedSubject]:
    """The subjects of a kept records file, read again as its import read it (the
    ``redcap-records`` reader of :mod:`pustula.store.audit.sources`); with ``lines``,
    only the header and those lines: one casebook's rows.

    Examples
    --------
    >>> from pustula.store.services.clinical import casebooks, study_protocol
    >>> store = demo_store()
    >>> protocol = study_protocol(store)
    >>> text = export_records(casebooks(store), protocol)
    >>> [s.code for s in read_source(text.encode(), protocol, {})][:2]
    ['S01', 'S02']
    >>> [(s.code, s.lines) for s in read_source(text.encode(), protocol, {}, [(2, 2)])]
    [('S01', ((2, 2),))]
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(content.count(b"\n", 0, exc.start) + 1) from None
    if lines:
        physical = io.StringIO(text).readlines()
        text = physical[0] + "".join("".join(physical[a - 1 : b]) for a, b in lines)
    mapping = FieldMapping.for_protocol(protocol, options.get("mapping"))
    return parse_records(text, protocol, mapping)


def not_utf8(line: int) -> DataValidationError:
    """The refusal of a file whose ``line`` is not UTF-8 text."""
    return DataValidationError(
        f"line {line}: the file is not UTF-8 text; export it from REDCap as CSV"
    )


def fetch_records(url: str, token: str) -> str:
    """A REDCap project's records (raw values, unique event names) through its API (PyCap).

    The token is never shown, logged or stored.
    """
    import requests
    from redcap.project import Project
    from redcap.request import RedcapError

    try:
        project = Project(url, token)
        text = project.export_records(format_type="csv", raw_or_label="raw", event_name="unique")
    except (RedcapError, requests.RequestException, ValueError) as exc:
        raise DataValidationError(
            f"the REDCap project at {url} could not be read ({type(exc).__name__}); check the "
            "address and that the token may export records"
        ) from None
    return str(text)


def metadata_json(rows: Iterable[Any]) -> list[dict[str, str]]:
    """Dictionary rows as REDCap's API answers ``content=metadata`` (JSON field names)."""
    keys = ("field_name", "form_name", "section_header", "field_type", "field_label",
            "select_choices_or_calculations", "field_note",
            "text_validation_type_or_show_slider_number", "text_validation_min",
            "text_validation_max", "identifier", "branching_logic", "required_field",
            "custom_alignment", "question_number", "matrix_group_name", "matrix_ranking",
            "field_annotation")  # fmt: skip
    return [dict(zip(keys, r.cells(), strict=True)) for r in rows]
