"""REST API for every step of a record's life: the same store services as the pages.

Changes to saved records name the version that was read (``expected_version``, optimistic
locking) and a ``reason``, which goes into the audit trail.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from pustula.store.monitoring.on_save import answering_query
from pustula.store.records.schemas import ConMedIn, ExposureIn
from pustula.store.services import changes
from pustula.store.services.clinical import add_subject_record, save_visit
from pustula.web.deps import (
    authorize,
    get_store,
    principal_of,
    scoped_protocol,
    scoped_subject,
    scoped_timeline,
)
from pustula.web.throughput import reads_whole_record

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", dependencies=[Depends(authorize)], tags=["v1"])

Reason = Field(min_length=1, max_length=2000, examples=["transcription error"])
Version = Field(ge=1, examples=[1])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Saved(BaseModel):
    """The record as saved (its columns, with the new version)."""

    model_config = ConfigDict(extra="allow")
    id: int
    version: int


class DoseChange(_Body):
    dose: float = Field(gt=0, examples=[10])
    unit: str = Field(min_length=1, examples=["mg"])
    frequency: str = Field(min_length=1, examples=["twice daily"])
    from_date: date
    reason: str = Reason


class InterruptionIn(_Body):
    start_date: date
    end_date: date | None = None
    cause: str = Field(min_length=1, max_length=500, examples=["pneumonia"])


class EndDate(_Body):
    end_date: date
    expected_version: int = Version
    reason: str = Reason


class MissedVisit(_Body):
    visit_code: str = Field(min_length=1, max_length=40, examples=["W2"])
    reason: str = Reason


class VisitDate(_Body):
    visit_date: date
    expected_version: int = Version
    reason: str = Reason


class RecordChange(_Body):
    changes: dict[str, Any] = Field(examples=[{"end_date": "2024-04-20", "outcome": "recovered"}])
    expected_version: int = Version
    reason: str = Reason
    #: the data query this change answers (linked in its thread)
    answers_query: int | None = None


class Removal(_Body):
    expected_version: int = Version
    reason: str = Reason


class Rescreen(_Body):
    screened_on: date
    baseline: dict[str, Any]
    prior_therapies: list[dict[str, Any]] = []
    screening_labs: dict[str, float] = {}
    reason: str = Reason


class ScreeningOut(BaseModel):
    code: str
    status: str
    reasons: list[str]


class Withdrawal(_Body):
    outcome: Literal["withdrawn", "completed"] = Field(examples=["withdrawn"])
    ended_on: date
    reason: str = Reason
    last_contact: date | None = None
    last_dose: date | None = None


def _saved(view: Any) -> Saved:
    return Saved(**{k: v for k, v in view.as_dict().items() if k != "items"})


def _user(request: Request) -> str:
    return principal_of(request).username


@router.post("/subjects/{code}/exposures", name="api_exposure_create", status_code=201)
def exposure_create(request: Request, code: str, body: ExposureIn) -> Saved:
    """Record the first dose (or a new course) of study drug."""
    return _saved(changes.start_treatment(get_store(request), _user(request), code, body))


@router.post("/subjects/{code}/exposures/{exposure_id}/dose-change", name="api_dose_change",
             status_code=201)  # fmt: skip
def dose_change(request: Request, code: str, exposure_id: int, body: DoseChange) -> Saved:
    """A new dose from a date: the current course ends the day before; the new one is returned."""
    return _saved(changes.change_dose(
        get_store(request), _user(request), code, exposure_id, dose=body.dose, unit=body.unit,
        frequency=body.frequency, from_date=body.from_date, reason=body.reason,
    ))  # fmt: skip


@router.post("/subjects/{code}/exposures/{exposure_id}/interruptions",
             name="api_interruption_create", status_code=201)  # fmt: skip
def interruption_create(
    request: Request, code: str, exposure_id: int, body: InterruptionIn
) -> Saved:
    """Interrupt study drug, with the cause."""
    return _saved(changes.interrupt_treatment(
        get_store(request), _user(request), code, exposure_id, start_date=body.start_date,
        end_date=body.end_date, cause=body.cause,
    ))  # fmt: skip


@router.patch("/subjects/{code}/interruptions/{interruption_id}", name="api_interruption_end")
def interruption_end(request: Request, code: str, interruption_id: int, body: EndDate) -> Saved:
    """Resume study drug: the last day of the interruption."""
    return _saved(changes.end_interruption(
        get_store(request), _user(request), code, interruption_id, end_date=body.end_date,
        expected_version=body.expected_version, reason=body.reason,
    ))  # fmt: skip


@router.post("/subjects/{code}/exposures/{exposure_id}/stop", name="api_exposure_stop")
def exposure_stop(request: Request, code: str, exposure_id: int, body: EndDate) -> Saved:
    """Stop study drug: the day of the last dose."""
    return _saved(changes.stop_treatment(
        get_store(request), _user(request), code, exposure_id, end_date=body.end_date,
        expected_version=body.expected_version, reason=body.reason,
    ))  # fmt: skip


@router.post("/subjects/{code}/visits/missed", name="api_visit_missed", status_code=201)
def visit_missed(request: Request, code: str, body: MissedVisit) -> Saved:
    """Record that a planned visit did not take place, and why."""
    visit, _ = save_visit(
        get_store(request), _user(request), protocol=scoped_protocol(request),
        subject=scoped_subject(request), visit_code=body.visit_code, visit_date=None,
        assessments={}, missed_reason=body.reason,
    )  # fmt: skip
    return _saved(visit)


@router.patch("/subjects/{code}/visits/{visit_id}", name="api_visit_date")
def visit_date(request: Request, code: str, visit_id: int, body: VisitDate) -> Saved:
    """Correct a visit's date; study day and window status are derived again."""
    return _saved(changes.change_visit_date(
        get_store(request), _user(request), code, visit_id, visit_date=body.visit_date,
        expected_version=body.expected_version, reason=body.reason,
    ))  # fmt: skip


def _change(request: Request, kind: changes.EditableKind, code: str, rid: int,
            body: RecordChange) -> Saved:  # fmt: skip
    with answering_query(body.answers_query):
        return _saved(changes.change_record(
            get_store(request), _user(request), kind, code, rid, body.changes,
            expected_version=body.expected_version, reason=body.reason,
        ))  # fmt: skip


def _remove(request: Request, kind: changes.EditableKind, code: str, rid: int,
            body: Removal) -> None:  # fmt: skip
    changes.remove_record(get_store(request), _user(request), kind, code, rid,
                          expected_version=body.expected_version, reason=body.reason)  # fmt: skip


@router.patch("/subjects/{code}/adverse-events/{ae_id}", name="api_adverse_event_update")
def adverse_event_update(request: Request, code: str, ae_id: int, body: RecordChange) -> Saved:
    """Follow up an adverse event: end date, outcome, grade or seriousness, with a reason."""
    return _change(request, "ae", code, ae_id, body)


@router.patch("/subjects/{code}/labs/{lab_id}", name="api_lab_update")
def lab_update(request: Request, code: str, lab_id: int, body: RecordChange) -> Saved:
    """Correct a lab value; its alerts and CTCAE grade are derived again."""
    return _change(request, "lab", code, lab_id, body)


@router.delete("/subjects/{code}/labs/{lab_id}", name="api_lab_remove", status_code=204)
def lab_remove(request: Request, code: str, lab_id: int, body: Removal) -> None:
    """Remove a lab value entered in error (kept, marked removed, in the audit trail)."""
    _remove(request, "lab", code, lab_id, body)


@router.get("/subjects/{code}/conmeds", name="api_conmeds")
@reads_whole_record
async def conmeds(request: Request, code: str) -> list[Saved]:
    """The subject's concomitant medications."""
    return [_saved(m) for m in scoped_timeline(request).con_meds]


@router.post("/subjects/{code}/conmeds", name="api_conmed_create", status_code=201)
def conmed_create(request: Request, code: str, body: ConMedIn) -> Saved:
    """Record a concomitant medication."""
    return _saved(add_subject_record(get_store(request), _user(request), "conmed", code, body))


@router.patch("/subjects/{code}/conmeds/{med_id}", name="api_conmed_update")
def conmed_update(request: Request, code: str, med_id: int, body: RecordChange) -> Saved:
    """Correct a concomitant medication."""
    return _change(request, "conmed", code, med_id, body)


@router.delete("/subjects/{code}/conmeds/{med_id}", name="api_conmed_remove", status_code=204)
def conmed_remove(request: Request, code: str, med_id: int, body: Removal) -> None:
    """Remove a medication entered in error (kept, marked removed, in the audit trail)."""
    _remove(request, "conmed", code, med_id, body)


@router.post("/subjects/{code}/rescreen", name="api_rescreen")
def rescreen(request: Request, code: str, body: Rescreen) -> ScreeningOut:
    """Screen a pending subject or a screen failure again; the earlier screening is kept."""
    payload = body.model_dump(exclude={"reason"})
    result = changes.rescreen(get_store(request), _user(request), code, payload,
                              reason=body.reason)  # fmt: skip
    return ScreeningOut(
        code=code, status=result.subject.status,
        reasons=[c.reason for c in result.eligibility.failures],
    )  # fmt: skip


@router.post("/subjects/{code}/withdrawal", name="api_withdrawal")
def withdrawal(request: Request, code: str, body: Withdrawal) -> Saved:
    """Withdrawal or discontinuation (``withdrawn``), or end of study (``completed``)."""
    return _saved(changes.end_participation(
        get_store(request), _user(request), code, outcome=body.outcome, ended_on=body.ended_on,
        reason=body.reason, last_contact=body.last_contact, last_dose=body.last_dose,
    ))  # fmt: skip
