"""REST API under ``/api/v1``: the same store calls and the same access rules as the pages.

Authenticate with ``Authorization: Bearer <token>`` (``pustula user token NAME``) or with
a browser session plus the ``X-CSRF-Token`` header on writes.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)
from starlette.concurrency import run_in_threadpool

from pustula.analysis.endpoints import EndpointResult
from pustula.scoring import get_instrument, list_instruments
from pustula.store import export_bundle
from pustula.store.monitoring.on_save import answering_query
from pustula.store.records.schemas import AdverseEventIn, LabIn
from pustula.store.records.views import AdverseEventView, LabView, VisitView
from pustula.store.services.clinical import (
    add_subject_record,
    edit_assessment,
    record_history,
    save_visit,
    study_protocol,
    subject_rows,
)
from pustula.store.services.studies import studies_on_server
from pustula.web.deps import (
    authorize,
    get_store,
    principal_of,
    scoped_protocol,
    scoped_subject,
    scoped_timeline,
)
from pustula.web.throughput import long_read, reads_whole_record
from pustula.web.views import endpoints_for

router = APIRouter(prefix="/api/v1", dependencies=[Depends(authorize)], tags=["v1"])


def _registered(name: str) -> str:
    return get_instrument(name).name  # an unknown name is refused with the known ones


#: An instrument of the registry (pustula.scoring), listed in the API schema as an enum.
InstrumentName = Annotated[
    str,
    AfterValidator(_registered),
    Field(json_schema_extra={"enum": [i.name for i in list_instruments()]}),
]
#: Item values as sent: booleans stay booleans, so that scoring refuses them by name
#: instead of pydantic turning ``true`` into 1.
Items = dict[str, StrictBool | StrictInt | StrictFloat | StrictStr | None]


class Me(BaseModel):
    username: str
    role: str
    sites: list[str]
    permissions: list[str]


class SubjectOut(BaseModel):
    code: str
    site: str
    status: str
    screened_on: date
    enrolled_on: date | None
    ended_on: date | None = None
    end_reason: str | None = None


class AssessmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    instrument: str
    instrument_version: str
    items: dict[str, Any]
    total: float | None
    band: str | None
    warnings: list[str]
    not_done_reason: str | None = None
    #: ``site`` (entered by the study team) or ``patient`` (the patient's own answers,
    #: which no write path changes; see ``not_used_reason``)
    source: str = "site"
    answered_at: str | None = None
    not_used_reason: str | None = None
    version: int


class VisitOut(BaseModel):
    id: int
    visit_code: str
    visit_date: date | None
    study_day: int | None
    window_status: str | None
    #: the protocol version whose window ``window_status`` follows (the one in force on
    #: the visit date); None for visits saved before versions were recorded
    window_protocol_version: str | None = None
    status: str
    assessments: list[AssessmentOut]


class SubjectDetail(SubjectOut):
    visits: list[VisitOut]


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    visit_code: str = Field(min_length=1, max_length=40)
    visit_date: date
    assessments: dict[InstrumentName, Items] = {}
    #: instruments not done at this visit, each with the reason
    not_done: dict[InstrumentName, str] = {}


class AssessmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: new item values; leave out (null) with ``not_done_reason`` to mark it not done
    items: Items | None = None
    not_done_reason: str | None = Field(default=None, min_length=1, max_length=500)
    expected_version: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=2000)
    #: the data query this change answers (linked in its thread)
    answers_query: int | None = None


class AdverseEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    term: str
    meddra_pt: str | None
    meddra_soc: str | None
    start_date: date
    end_date: date | None
    grade: int
    serious: bool
    relatedness: str
    outcome: str
    treatment_emergent: bool | None
    version: int


class LabOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    test: str
    value: float
    unit: str
    sample_date: date
    on_treatment: bool
    alerts: list[dict[str, Any]]
    ctcae_grade: int | None
    version: int


class ScoreOut(BaseModel):
    instrument: str
    version: str
    total: float | None
    display_total: str
    band: str | None
    subscores: dict[str, float]
    details: dict[str, Any]
    warnings: list[str]


class HistoryOut(BaseModel):
    id: int
    at: str
    user: str
    action: str
    table: str
    record: int | None
    field: str | None
    old: str | None
    new: str | None
    reason: str | None


@router.get("/me", name="api_me")
def me(request: Request) -> Me:
    """Who is signed in: user name, role, sites and permissions."""
    p = principal_of(request)
    return Me(
        username=p.username, role=p.role, sites=list(p.sites), permissions=sorted(p.permissions)
    )


@router.get("/subjects", name="api_subjects")
def subjects(request: Request) -> list[SubjectOut]:
    """The subjects of your sites, with their status."""
    rows = subject_rows(get_store(request), sites=principal_of(request).site_filter)
    return [
        SubjectOut(
            code=r.code,
            site=r.site,
            status=r.status,
            screened_on=r.screened_on,
            enrolled_on=r.enrolled_on,
        )
        for r in rows
    ]


def _visit_out(visit: VisitView, assessments: Iterable[Any]) -> VisitOut:
    return VisitOut(
        id=visit.id,
        visit_code=visit.visit_code,
        visit_date=visit.visit_date,
        study_day=visit.study_day,
        window_status=visit.window_status,
        window_protocol_version=visit.protocol_version,
        status=visit.status,
        assessments=[AssessmentOut.model_validate(a) for a in assessments],
    )


def _detail(request: Request) -> SubjectDetail:
    t = scoped_timeline(request)
    visits = [_visit_out(v, t.assessments[v.id]) for v in t.visits]
    s = t.subject
    return SubjectDetail(
        code=s.code,
        site=t.site,
        status=s.status,
        screened_on=s.screened_on,
        enrolled_on=s.enrolled_on,
        ended_on=s.ended_on,
        end_reason=s.end_reason,
        visits=visits,
    )


@router.get("/subjects/{code}", name="api_subject")
@reads_whole_record
async def subject(request: Request, code: str) -> SubjectDetail:
    """One subject with every visit and its scored assessments."""
    return _detail(request)


@router.post("/subjects/{code}/visits", name="api_visit_create", status_code=201)
def visit_create(request: Request, code: str, body: VisitIn) -> VisitOut:
    """Record a visit with its assessments; the answer is the saved visit, scored."""
    visit, saved = save_visit(
        get_store(request),
        principal_of(request).username,
        protocol=scoped_protocol(request),
        subject=scoped_subject(request),
        visit_code=body.visit_code,
        visit_date=body.visit_date,
        assessments={str(k): v for k, v in body.assessments.items()},
        not_done={str(k): v for k, v in body.not_done.items()},
    )
    return _visit_out(visit, saved)


@router.put("/subjects/{code}/assessments/{assessment_id}", name="api_assessment_update")
def assessment_update(
    request: Request, code: str, assessment_id: int, body: AssessmentUpdate
) -> AssessmentOut:
    with answering_query(body.answers_query):
        saved = _edit(request, assessment_id, body)
    return AssessmentOut.model_validate(saved)


def _edit(request: Request, assessment_id: int, body: AssessmentUpdate) -> Any:
    return edit_assessment(
        get_store(request),
        principal_of(request).username,
        reason=body.reason,
        subject_id=scoped_subject(request).id,
        assessment_id=assessment_id,
        items=body.items,
        expected_version=body.expected_version,
        not_done_reason=body.not_done_reason,
    )


def _ae_out(e: AdverseEventView) -> AdverseEventOut:
    return AdverseEventOut.model_validate(e)


def _lab_out(x: LabView) -> LabOut:
    return LabOut.model_validate(x)


@router.get("/subjects/{code}/adverse-events", name="api_adverse_events")
@reads_whole_record
async def adverse_events(request: Request, code: str) -> list[AdverseEventOut]:
    """The subject's adverse events."""
    return [_ae_out(e) for e in scoped_timeline(request).adverse_events]


@router.post("/subjects/{code}/adverse-events", name="api_adverse_event_create", status_code=201)
def adverse_event_create(request: Request, code: str, body: AdverseEventIn) -> AdverseEventOut:
    """Record an adverse event; treatment emergence is derived from the first dose."""
    user = principal_of(request).username
    saved = add_subject_record(get_store(request), user, "ae", code, body)
    return AdverseEventOut.model_validate(saved)


@router.get("/subjects/{code}/labs", name="api_labs")
@reads_whole_record
async def labs(request: Request, code: str) -> list[LabOut]:
    """The subject's lab values with alerts and CTCAE grades."""
    return [_lab_out(x) for x in scoped_timeline(request).labs]


@router.post("/subjects/{code}/labs", name="api_lab_create", status_code=201)
def lab_create(request: Request, code: str, body: LabIn) -> LabOut:
    """Record a lab value; the protocol's alerts and the CTCAE grade are derived."""
    user = principal_of(request).username
    return LabOut.model_validate(add_subject_record(get_store(request), user, "lab", code, body))


@router.get("/history/{table}/{record_id}", name="api_history")
def history(request: Request, table: str, record_id: int) -> list[HistoryOut]:
    """Every audited change of one record: who, when, old and new value, and why."""
    site, _, rows = record_history(get_store(request), table, record_id)
    if not principal_of(request).sees_site(site):
        raise HTTPException(status_code=404, detail="No such record.")
    return [HistoryOut(**row) for row in rows]


@router.get("/endpoints", name="api_endpoints")
@long_read
def endpoints(request: Request) -> list[EndpointResult]:
    """The protocol's endpoints: responders, N, rate and exact confidence interval."""
    return endpoints_for(get_store(request), principal_of(request))


#: Why a study's people cannot take the whole database's bundle.
SEVERAL_STUDIES = (
    "This server holds several studies, and a bundle is the whole database with its one "
    "audit trail. The server's operator makes it (pustula export); this study's data are "
    "its datasets (SDTM, ADaM, tidy tables) on the Downloads page."
)


@router.get(
    "/export.zip",
    name="api_export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
@long_read
async def export(request: Request) -> Response:
    """The whole study as a signed bundle (ZIP of CSV tables and a manifest)."""

    def build() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            export_bundle(get_store(request), tmp)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(Path(tmp).iterdir()):
                    archive.write(path, path.name)
            return buffer.getvalue()

    principal = principal_of(request)
    if "*" not in principal.sites:
        raise HTTPException(status_code=403, detail="A full export needs access to every site.")
    if await run_in_threadpool(studies_on_server, get_store(request)) > 1:
        # the bundle is the whole database and its one audit trail: every study on it
        raise HTTPException(status_code=409, detail=SEVERAL_STUDIES)
    if study_protocol(get_store(request)).blinded and not principal.can("unblinded"):
        # the bundle is the whole database: the allocation list and its seed included
        raise HTTPException(status_code=403, detail="This trial is blinded, and the complete "
                            "export holds its allocation list: the unblinded statistician "
                            "can make it. The analysis datasets carry no arm.")  # fmt: skip
    return Response(
        await run_in_threadpool(build),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="pustula-export.zip"'},
    )


@router.post("/score/{instrument}", name="api_score")
def score(instrument: InstrumentName, items: Items) -> ScoreOut:
    """Score item values without saving anything (the same code that scores saved visits)."""
    return ScoreOut(**get_instrument(instrument).score(items).to_dict())
