"""What a coordinator can do to a subject's records, one form per step of a record's life.

Each :class:`Action` lists its fields (:mod:`pustula.web.fields`) and the store service
it calls; :mod:`pustula.web.casebook` turns each into a form page and a save route.
Changes to saved data ask for a reason, which goes into the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pustula.checks.adverse_events import adverse_event_problems
from pustula.checks.values import LAB_TESTS
from pustula.checks.vocabulary import CODELISTS, label
from pustula.errors import DataValidationError
from pustula.protocol import Protocol
from pustula.protocol.status import ENROLLED_STATES, SubjectStatus
from pustula.store import Store
from pustula.store.monitoring.queries import Timeline
from pustula.store.services import changes as change
from pustula.store.services.clinical import add_subject_record, save_visit
from pustula.web.fields import Field, choices

__all__ = ["ACTIONS", "Action", "Context"]

REASON = Field("reason", kind="textarea", required=True,
               hint="Why the saved record is changed; it goes into the audit trail.")  # fmt: skip
LAB_UNITS = tuple(dict.fromkeys(u for test in LAB_TESTS.values() for u in test.units))


@dataclass(frozen=True)
class Context:
    """What an action runs with: the store, who, the subject's record and its protocol."""

    store: Store
    user: str
    timeline: Timeline
    protocol: Protocol
    record: Any = None  # the record the action changes (a typed view), if any

    @property
    def code(self) -> str:
        return self.timeline.subject.code


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    path: str  # under /subjects/{code}/
    fields: tuple[Field, ...]
    run: Callable[[Context, dict[str, Any]], Any]
    permission: str = "enter"
    #: the timeline collection the {record_id} of the path is found in
    records: str | None = None
    submit: str = "Save"
    intro: str = ""
    #: the fields' values when the form opens, from the record
    prefill: Callable[[Any], dict[str, str]] | None = None
    #: dynamic options of a field, from the subject's record and protocol
    options: Callable[[Context], dict[str, tuple[tuple[str, str], ...]]] | None = None
    #: the subject states in which the action is offered
    states: tuple[str, ...] = (SubjectStatus.ENROLLED,)
    #: the record's cross-field rules, run on the fields that parsed while others are still
    #: wrong, so that a form shows every error at once
    problems: Callable[[Context, dict[str, Any]], dict[str, str]] | None = None


def not_now(action: Action, status: str) -> str:
    """Why ``action`` is refused for a subject in ``status``."""
    state = label("subject_status", status)
    return f"{action.title} is not possible: the subject is {state[:1].lower()}{state[1:]}."


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _prefill(*names: str) -> Callable[[Any], dict[str, str]]:
    def fill(view: Any) -> dict[str, str]:
        return {n: _text(getattr(view, n)) for n in names}

    return fill


# -- adverse events -------------------------------------------------------------------------

_SERIOUS = Field("serious", "Serious (ICH E2A)", "yes_no", required=True)
_CRITERIA = Field("serious_criteria", kind="checkboxes", options=choices("serious_criterion"),
                  hint="Required for a serious event.")  # fmt: skip
_GRADE = Field("grade", kind="radio", options=choices("grade"), required=True)
_ACTION = Field("action_taken", kind="select", options=choices("action_taken"), required=True)
_OUTCOME = Field("outcome", kind="select", options=choices("outcome"), required=True,
                 hint="Recovered needs the end date; an ongoing event has none.")  # fmt: skip
_END = Field("end_date", kind="date")

AE_CODING = (
    Field("meddra_pt", "MedDRA preferred term (as supplied by coding)"),
    Field("meddra_pt_code", hint="8 digits"),
    Field("meddra_soc", "MedDRA system organ class"),
    Field("meddra_soc_code", hint="8 digits"),
)
AE_FIELDS = (
    Field("term", required=True, hint="As reported, in the investigator's words."),
    *AE_CODING,
    Field("start_date", kind="date", required=True),
    _END, _GRADE, _SERIOUS, _CRITERIA,
    Field("relatedness", kind="select", options=choices("relatedness"), required=True),
    _ACTION, _OUTCOME,
    Field("worsened_on_treatment", "Pre-existing condition that worsened on treatment",
          "yes_no", required=True),
)  # fmt: skip
AE_FOLLOW_UP = (_END, _OUTCOME, _GRADE, _SERIOUS, _CRITERIA, _ACTION, REASON)


def _ae_new(ctx: Context, data: dict[str, Any]) -> Any:
    return add_subject_record(ctx.store, ctx.user, "ae", ctx.code, data)


def _changes(data: dict[str, Any], fields: tuple[Field, ...]) -> dict[str, Any]:
    """Every field of the form but the reason; an emptied optional field is cleared."""
    names = [f.name for f in fields if f.name != "reason"]
    return {n: data.get(n, [] if n == "serious_criteria" else None) for n in names}


def _ae_follow_up(ctx: Context, data: dict[str, Any]) -> Any:
    return change.change_record(
        ctx.store, ctx.user, "ae", ctx.code, ctx.record.id, _changes(data, AE_FOLLOW_UP),
        expected_version=ctx.record.version, reason=data["reason"],
    )  # fmt: skip


def _ae_problems(ctx: Context, data: dict[str, Any]) -> dict[str, str]:
    saved = {"start_date": ctx.record.start_date} if ctx.record is not None else {}
    return adverse_event_problems(saved | data)


def _ae_fill(view: Any) -> dict[str, Any]:
    return _prefill("end_date", "outcome", "grade", "serious", "action_taken")(view) | {
        "serious_criteria": list(view.serious_criteria)
    }


# -- labs and medications ---------------------------------------------------------------------

LAB_FIELDS = (
    Field("test", kind="select", options=choices("lab_test"), required=True),
    Field("value", kind="number", required=True),
    Field("unit", kind="select", required=True,
          options=tuple((u, CODELISTS["unit"].get(u, u)) for u in LAB_UNITS)),
    Field("lower_limit", kind="number"),
    Field("upper_limit", kind="number"),
    Field("sample_date", kind="date", required=True),
)  # fmt: skip
MED_FIELDS = (
    Field("drug", required=True),
    Field("indication", required=True),
    Field("dose", "Dose and frequency"),
    Field("start_date", kind="date"),
    Field("end_date", kind="date"),
)


def _adder(kind: str) -> Callable[[Context, dict[str, Any]], Any]:
    def run(ctx: Context, data: dict[str, Any]) -> Any:
        return add_subject_record(ctx.store, ctx.user, kind, ctx.code, data)  # type: ignore[arg-type]

    return run


def _editor(kind: str, fields: tuple[Field, ...]) -> Callable[[Context, dict[str, Any]], Any]:
    def run(ctx: Context, data: dict[str, Any]) -> Any:
        return change.change_record(
            ctx.store, ctx.user, kind, ctx.code, ctx.record.id,  # type: ignore[arg-type]
            _changes(data, fields), expected_version=ctx.record.version, reason=data["reason"],
        )  # fmt: skip

    return run


def _remover(kind: str) -> Callable[[Context, dict[str, Any]], Any]:
    def run(ctx: Context, data: dict[str, Any]) -> Any:
        return change.remove_record(
            ctx.store, ctx.user, kind, ctx.code, ctx.record.id,  # type: ignore[arg-type]
            expected_version=ctx.record.version, reason=data["reason"],
        )  # fmt: skip

    return run


# -- study drug -----------------------------------------------------------------------------

OTHER_DOSE = "other"
DOSE_FIELDS = (
    Field("regimen", "Study drug and dose", "radio", required=True,
          hint="As the protocol allows. Another dose needs the reason and raises a query."),
    Field("dose", "Other dose", kind="number", hint="Only for another dose."),
    Field("unit", "Its unit", hint="For example mg"),
    Field("frequency", "Its frequency", hint="For example once daily"),
    Field("dose_reason", "Why a dose outside the protocol", "textarea"),
)  # fmt: skip


def _regimen_options(ctx: Context) -> dict[str, tuple[tuple[str, str], ...]]:
    found = tuple((str(i), r.label) for i, r in enumerate(ctx.protocol.regimens))
    other = "Another dose (outside the protocol)" if found else "Enter the dose"
    return {"regimen": (*found, (OTHER_DOSE, other))}


def _chosen_dose(ctx: Context, data: dict[str, Any], *, drug: str | None) -> dict[str, Any]:
    """The dose the form chose: one of the protocol's regimens, or another one typed in
    with its reason (every missing part named at once)."""
    regimens = ctx.protocol.regimens
    choice = str(data.get("regimen", ""))
    if choice != OTHER_DOSE:
        r = regimens[int(choice)]
        return {"drug": r.drug, "dose": r.dose, "unit": r.unit, "frequency": r.frequency}
    missing = {n: f"{n}: is required for another dose" for n in ("dose", "unit", "frequency")
               if data.get(n) in (None, "")}  # fmt: skip
    if regimens and not str(data.get("dose_reason") or "").strip():
        missing["dose_reason"] = "dose_reason: say why this dose is outside the protocol"
    if missing:
        first = next(iter(missing))
        raise DataValidationError(missing[first], field=first, errors=missing)
    name = drug or (regimens[0].drug if regimens else "study drug")
    return {"drug": name, "dose": data["dose"], "unit": data["unit"],
            "frequency": data["frequency"]}  # fmt: skip


def _start(ctx: Context, data: dict[str, Any]) -> Any:
    dose = _chosen_dose(ctx, data, drug=None)
    reason = data.get("dose_reason") if data.get("regimen") == OTHER_DOSE else None
    when = {"start_date": data["start_date"]}
    return change.start_treatment(ctx.store, ctx.user, ctx.code, dose | when, reason=reason)


def _dose_change(ctx: Context, data: dict[str, Any]) -> Any:
    dose = _chosen_dose(ctx, data, drug=ctx.record.drug)
    why = data["reason"]
    if data.get("regimen") == OTHER_DOSE and data.get("dose_reason"):
        why = f"{why} (outside the protocol: {data['dose_reason']})"
    return change.change_dose(
        ctx.store, ctx.user, ctx.code, ctx.record.id, dose=dose["dose"], unit=dose["unit"],
        frequency=dose["frequency"], from_date=data["from_date"], reason=why,
    )  # fmt: skip


def _interrupt(ctx: Context, data: dict[str, Any]) -> Any:
    return change.interrupt_treatment(
        ctx.store, ctx.user, ctx.code, ctx.record.id, start_date=data["start_date"],
        end_date=data.get("end_date"), cause=data["cause"],
    )  # fmt: skip


def _resume(ctx: Context, data: dict[str, Any]) -> Any:
    return change.end_interruption(
        ctx.store, ctx.user, ctx.code, ctx.record.id, end_date=data["end_date"],
        expected_version=ctx.record.version, reason=data["reason"],
    )  # fmt: skip


def _stop(ctx: Context, data: dict[str, Any]) -> Any:
    return change.stop_treatment(
        ctx.store, ctx.user, ctx.code, ctx.record.id, end_date=data["end_date"],
        expected_version=ctx.record.version, reason=data["reason"],
    )  # fmt: skip


# -- visits and the end of participation ----------------------------------------------------------


def _open_visits(ctx: Context) -> dict[str, tuple[tuple[str, str], ...]]:
    recorded = {v.visit_code for v in ctx.timeline.visits}
    open_visits = [v for v in ctx.protocol.visits if v.code not in recorded]
    return {"visit_code": tuple((v.code, v.label) for v in open_visits)}


def _missed(ctx: Context, data: dict[str, Any]) -> Any:
    from pustula.store.records.views import SubjectView

    subject = ctx.timeline.subject
    assert isinstance(subject, SubjectView)
    return save_visit(
        ctx.store, ctx.user, protocol=ctx.protocol, subject=subject,
        visit_code=data["visit_code"], visit_date=None, assessments={},
        missed_reason=data["notes"],
    )  # fmt: skip


def _visit_date(ctx: Context, data: dict[str, Any]) -> Any:
    return change.change_visit_date(
        ctx.store, ctx.user, ctx.code, ctx.record.id, visit_date=data["visit_date"],
        expected_version=ctx.record.version, reason=data["reason"],
    )  # fmt: skip


END_FIELDS = (
    Field("outcome_kind", "What ends", "radio", choices("end_outcome"), required=True),
    Field("ended_on", "Date of withdrawal or end of study", "date", required=True),
    Field("end_reason", "Reason", "textarea", required=True,
          hint="For example: withdrew consent; adverse event; lack of efficacy; lost to "
               "follow-up; completed the protocol."),
    Field("last_contact", "Date of last contact", "date"),
    Field("last_dose", "Day of the last dose of study drug", "date",
          hint="Required while study drug is being given; it ends the open course."),
)  # fmt: skip


def _end(ctx: Context, data: dict[str, Any]) -> Any:
    return change.end_participation(
        ctx.store, ctx.user, ctx.code, outcome=data["outcome_kind"], ended_on=data["ended_on"],
        reason=data["end_reason"], last_contact=data.get("last_contact"),
        last_dose=data.get("last_dose"),
    )  # fmt: skip


ACTIONS: tuple[Action, ...] = (
    # safety goes on after the end of participation (ICH E2A): adverse events to their
    # resolution, safety labs and medications; and a saved record can be corrected
    Action("ae_new", "Adverse event", "ae/new", AE_FIELDS, _ae_new, states=ENROLLED_STATES,
           problems=_ae_problems),
    Action("ae_follow_up", "Adverse event follow-up", "ae/{record_id}/follow-up", AE_FOLLOW_UP,
           _ae_follow_up, "edit", "adverse_events", prefill=_ae_fill, states=ENROLLED_STATES,
           problems=_ae_problems,
           intro="Record the end date, the outcome, or a change of grade or seriousness."),
    # coding goes on after the subject's participation has ended
    Action("ae_coding", "MedDRA coding of an adverse event", "ae/{record_id}/coding",
           (*AE_CODING, REASON), _editor("ae", AE_CODING), "edit", "adverse_events",
           prefill=_prefill(*(f.name for f in AE_CODING)), states=ENROLLED_STATES,
           intro="The preferred term and system organ class with their codes, as the coder "
                 "supplied them. The event's term as reported does not change."),
    Action("lab_new", "Lab value", "labs/new", LAB_FIELDS, _adder("lab"), states=ENROLLED_STATES),
    Action("lab_edit", "Correct a lab value", "labs/{record_id}/edit", (*LAB_FIELDS, REASON),
           _editor("lab", LAB_FIELDS), "edit", "labs",
           prefill=_prefill(*(f.name for f in LAB_FIELDS)), states=ENROLLED_STATES),
    Action("lab_remove", "Remove a lab value", "labs/{record_id}/remove", (REASON,),
           _remover("lab"), "edit", "labs", submit="Remove", states=ENROLLED_STATES,
           intro="The value stays in the database and the audit trail, marked removed."),
    Action("conmed_new", "Concomitant medication", "conmeds/new", MED_FIELDS, _adder("conmed"),
           states=ENROLLED_STATES),
    Action("conmed_edit", "Correct a medication", "conmeds/{record_id}/edit",
           (*MED_FIELDS, REASON), _editor("conmed", MED_FIELDS), "edit", "con_meds",
           prefill=_prefill(*(f.name for f in MED_FIELDS)), states=ENROLLED_STATES),
    Action("conmed_remove", "Remove a medication", "conmeds/{record_id}/remove", (REASON,),
           _remover("conmed"), "edit", "con_meds", submit="Remove", states=ENROLLED_STATES,
           intro="The entry stays in the database and the audit trail, marked removed."),
    Action("dose_start", "First dose of study drug", "exposure/new",
           (*DOSE_FIELDS, Field("start_date", "Day of the first dose", "date", required=True)),
           _start, options=_regimen_options,
           intro="Day 0 of the visit schedule is the day of the first dose."),
    Action("dose_change", "Change the dose", "exposure/{record_id}/change",
           (*DOSE_FIELDS, Field("from_date", kind="date", required=True), REASON),
           _dose_change, "edit", "exposure", options=_regimen_options,
           intro="The current dose ends the day before the new one starts."),
    Action("dose_interrupt", "Interrupt study drug", "exposure/{record_id}/interrupt",
           (Field("start_date", "First day without study drug", "date", required=True),
            Field("end_date", "Last day without study drug", "date",
                  hint="Leave empty while the interruption goes on."),
            Field("cause", "Reason for the interruption", "textarea", required=True)),
           _interrupt, "edit", "exposure"),
    Action("interruption_end", "Resume study drug", "interruptions/{record_id}/end",
           (Field("end_date", "Last day without study drug", "date", required=True), REASON),
           _resume, "edit", "interruptions"),
    Action("dose_stop", "Stop study drug", "exposure/{record_id}/stop",
           (Field("end_date", "Day of the last dose", "date", required=True), REASON),
           _stop, "edit", "exposure"),
    Action("visit_missed", "Mark a visit missed", "visits/missed",
           (Field("visit_code", "Visit", "select", required=True),
            Field("notes", "Why the visit was missed", "textarea", required=True)),
           _missed, options=_open_visits,
           intro="The visit then counts as missed in the schedule and in the analysis."),
    Action("visit_date", "Change the visit date", "visits/{record_id}/date",
           (Field("visit_date", kind="date", required=True), REASON), _visit_date, "edit",
           "visits", prefill=_prefill("visit_date"), states=ENROLLED_STATES,
           intro="Study day and window status are derived again from the new date."),
    Action("subject_end", "Withdrawal, discontinuation or end of study", "end", END_FIELDS,
           _end, "edit",
           intro="The schedule stops listing visits as due or overdue for this subject."),
)  # fmt: skip

BY_NAME: Mapping[str, Action] = {a.name: a for a in ACTIONS}
