"""A new subject's casebook as rows in memory, built by the checks and derivations of the
forms: what the form-by-form saves would write, without a round trip per record.

:func:`build_casebook` runs, for one subject of an import, exactly what enrolment, the
study drug, visit, lab, adverse event, medication and end-of-study saves run (the same
functions), in the same order, so the rows equal theirs; only the scores are left for
:mod:`pustula.store.transfer.bulk` to compute in bulk, instrument by instrument. Row ids are
positions here; the writer gives them their database ids.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from pustula.checks import BaselineLab
from pustula.errors import DataValidationError, PustulaError
from pustula.protocol import Protocol, first_dose
from pustula.protocol.status import VisitStatus
from pustula.scoring import get_instrument
from pustula.store.records.casebook import NO_LAST_DOSE, end_columns
from pustula.store.records.enrolment import (
    check_subject_code,
    eligibility_rows,
    screen,
    screening_status,
    subject_entry,
)
from pustula.store.records.safety import ae_columns, check_interruption, lab_columns
from pustula.store.records.schemas import AdverseEventIn, ConMedIn, ExposureIn, LabIn, parse_input
from pustula.store.records.visits import check_new_visit, day_zero_of, timing_of

__all__ = ["Casebook", "Pending", "Row", "build_casebook"]


class Row(dict[str, Any]):
    """A record not yet saved: its columns, readable as attributes (as edit checks read);
    a column not set yet is None, as in a new record."""

    __slots__ = ()
    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...

    else:
        # the dictionary's own lookup: edit checks read millions of attributes in an import
        __getattr__ = dict.__getitem__

    def __missing__(self, key: str) -> None:
        return None


@dataclass
class Pending:
    """An assessment whose score is still to be computed (in bulk, by instrument)."""

    row: Row
    items: Mapping[str, object]
    where: str


@dataclass
class Casebook:
    """The rows of one new subject, by table, in the order the forms would save them.

    ``links`` ties a row to its parent row (an interruption to its course of study drug,
    an assessment to its visit) until both have ids.
    """

    rows: dict[str, list[Row]] = field(default_factory=dict)
    links: dict[int, Row] = field(default_factory=dict)
    scores: list[Pending] = field(default_factory=list)
    #: the (first, last) lines of the source file its rows came from, when it has lines
    lines: list[list[int]] = field(default_factory=list)
    #: the same rows as byte offsets, the header first (see ImportedSubject.spans)
    spans: list[list[int]] = field(default_factory=list)

    def add(self, table: str, columns: Mapping[str, Any], *, parent: Row | None = None) -> Row:
        row = Row(columns)
        self.rows.setdefault(table, []).append(row)
        if parent is not None:
            self.links[id(row)] = parent
        return row

    @property
    def subject(self) -> Row:
        return self.rows["subject"][0]

    def live(self, table: str) -> list[Row]:
        return self.rows.get(table, [])


def _first_dose(book: Casebook) -> date | None:
    """The first dose of the study drug saved so far in this casebook."""
    return first_dose(e["start_date"] for e in book.live("exposure"))


def build_casebook(item: Any, protocol: Protocol, site_ids: Mapping[str, int]) -> Casebook:
    """The rows of ``item`` (an :class:`~pustula.store.services.clinical.ImportedSubject`).

    Raises
    ------
    DataValidationError
        Whatever the forms' saves would refuse, prefixed with where the source has it.
    """
    book = Casebook(lines=[list(span) for span in getattr(item, "lines", ())],
                    spans=[list(span) for span in getattr(item, "spans", ())])  # fmt: skip
    _enrol(book, protocol, site_ids, item.enrolment, item.where)
    records = list(item.records)
    # study drug first: study days and treatment-emergence count from the first dose
    for record in records:
        if record.kind == "exposure":
            _at(record.where, lambda r=record: _exposure(book, r.data))
    for record in records:
        if record.kind == "interruption":
            _at(record.where, lambda r=record: _interruption(book, r.data))
    for visit in item.visits:
        _at(visit.where, lambda v=visit: _visit(book, protocol, v))
    for record in records:
        if record.kind in ("lab", "adverse_event", "con_med"):
            _at(record.where, lambda r=record: _safety(book, protocol, r.kind, r.data))
    if item.end is not None:
        _at(item.where, lambda: _end(book, item.end))
    return book


def _at(where: str, step: Any) -> None:
    try:
        step()
    except PustulaError as exc:
        raise DataValidationError(f"{where}: {exc.message}") from exc


def _enrol(
    book: Casebook, protocol: Protocol, site_ids: Mapping[str, int], data: Mapping[str, Any],
    where: str,
) -> None:  # fmt: skip
    def enrol() -> None:
        check_subject_code(data["code"])
        if data["site"] not in site_ids:
            raise DataValidationError(
                f"site {data['site']} is not a site of study {protocol.id}", field="site"
            )
        screening = screen(
            protocol, data["screened_on"], data["baseline"], data.get("prior_therapies", ()),
            data.get("screening_labs"),
        )  # fmt: skip
        status = screening_status(screening.result)
        book.add("subject", {
            "site_id": site_ids[data["site"]], "code": data["code"],
            **subject_entry(protocol, status, data["screened_on"]),
            "ended_on": None, "end_reason": None, "last_contact": None,
        })  # fmt: skip
        book.add("baseline", screening.baseline.model_dump())
        for prior in screening.priors:
            book.add("prior_therapy", prior.model_dump())
        for row in eligibility_rows(screening.result, 1):
            book.add("eligibility_result", row)
        # screening results are lab values of the subject on the day (no dose yet)
        for test, value in (data.get("screening_labs") or {}).items():
            unit = next((r.unit for r in protocol.lab_rules if r.test == test), None)
            if unit is not None:
                lab = parse_input(LabIn, {"test": test, "value": value, "unit": unit,
                                          "sample_date": data["screened_on"]})  # fmt: skip
                book.add("lab", lab_columns(protocol, lab, first_dose=None, baseline=lambda: None))

    _at(where, enrol)


def _exposure(book: Casebook, data: Mapping[str, Any]) -> None:
    book.add("exposure", parse_input(ExposureIn, data).model_dump())


def _interruption(book: Casebook, data: Mapping[str, Any]) -> None:
    start = data["start_date"]
    course = next((c for c in book.live("exposure") if c["start_date"] <= start
                   and (c["end_date"] is None or start <= c["end_date"])), None)  # fmt: skip
    if course is None:
        raise DataValidationError(
            f"the interruption starting {start.isoformat()} falls in no period of study drug",
            field="interruption_start",
        )
    check_interruption(start_date=start, end_date=data["end_date"], cause=data["cause"])
    columns = {"start_date": start, "end_date": data["end_date"], "cause": data["cause"]}
    book.add("exposure_interruption", columns, parent=course)


def _visit(book: Casebook, protocol: Protocol, visit: Any) -> None:
    subject = book.subject
    check_new_visit(protocol, subject, visit_code=visit.visit_code, visit_date=visit.visit_date,
                    status=VisitStatus.DONE, notes="")  # fmt: skip
    recorded = {v["visit_code"]: v for v in book.live("visit")}
    if visit.visit_code in recorded:
        raise DataValidationError(
            f"visit {visit.visit_code} of subject {subject.code} is already recorded; edit it "
            "instead",
            field="visit_code",
        )
    base = recorded.get(protocol.baseline_visit.code)
    anchor = day_zero_of(
        protocol, visit.visit_code, visit.visit_date, _first_dose(book),
        None if base is None else base["visit_date"], subject["enrolled_on"],
    )  # fmt: skip
    row = book.add("visit", {
        "visit_code": visit.visit_code, "visit_date": visit.visit_date,
        "status": VisitStatus.DONE, "notes": "",
        **timing_of(protocol, visit.visit_code, visit.visit_date, anchor=anchor),
    })  # fmt: skip
    for instrument, items in visit.assessments.items():
        name = get_instrument(instrument).name
        pending = book.add("assessment", {"instrument": name, "not_done_reason": None}, parent=row)
        book.scores.append(Pending(pending, items, visit.where))


def _safety(book: Casebook, protocol: Protocol, kind: str, data: Mapping[str, Any]) -> None:
    if kind == "lab":
        lab = parse_input(LabIn, data)
        first = _first_dose(book)
        baseline = functools.partial(_lab_baseline, book, lab.test, first)
        book.add("lab", lab_columns(protocol, lab, first_dose=first, baseline=baseline))
    elif kind == "adverse_event":
        ae = parse_input(AdverseEventIn, data)
        book.add("adverse_event", ae_columns(ae, first_dose=_first_dose(book)))
    else:
        book.add("con_med", parse_input(ConMedIn, data).model_dump())


def _lab_baseline(book: Casebook, test: str, first_dose: date | None) -> BaselineLab | None:
    """The last value of ``test`` on or before the first dose (the later saved on a tie)."""
    if first_dose is None:
        return None
    earlier = [x for x in book.live("lab") if x["test"] == test and x["sample_date"] <= first_dose]
    if not earlier:
        return None
    latest = max(enumerate(earlier), key=lambda p: (p[1]["sample_date"], p[0]))[1]
    return BaselineLab(latest["value"], latest["unit"], latest["upper_limit"])


def _end(book: Casebook, end: Mapping[str, Any]) -> None:
    subject = book.subject
    columns = end_columns(subject, outcome=end["outcome"], ended_on=end["ended_on"],
                          reason=end["reason"], last_contact=end.get("last_contact"))  # fmt: skip
    if any(e["end_date"] is None for e in book.live("exposure")):
        raise DataValidationError(NO_LAST_DOSE, field="last_dose")
    subject.update(columns)
