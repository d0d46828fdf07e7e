"""Server-rendered pages. Routes parse input and call scoring, checks and the store."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pustula.errors import ConflictError, PustulaError
from pustula.report import render_html, render_pdf
from pustula.store import Store
from pustula.store.services import (
    RecordKind,
    add_subject_record,
    assessment_of,
    audit_page,
    edit_assessment,
    enrol,
    save_visit,
    study_page,
)
from pustula.store.services import record_history as history_of
from pustula.store.views import AssessmentView
from pustula.web.access import Principal
from pustula.web.deps import (
    authorize,
    get_store,
    principal_of,
    scoped_protocol,
    scoped_subject,
    scoped_timeline,
)
from pustula.web.forms import (
    PPPASI_FIELDS,
    REGIONS,
    SIGNS,
    assessment_items,
    error_field,
    field_errors,
    number,
)
from pustula.web.record_forms import RECORD_FORMS, parse_record
from pustula.web.render import render
from pustula.web.throughput import long_read, reads_whole_record
from pustula.web.views import dashboard_view, enrolment_payload, report_for

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)


@router.get("/", name="dashboard", response_class=HTMLResponse)
@long_read
def dashboard(request: Request) -> Response:
    store, principal = get_store(request), principal_of(request)
    return render(request, "dashboard.html", **dashboard_view(store, principal, today=date.today()))


@router.get("/subjects", name="subject_list", response_class=HTMLResponse)
def subject_list(request: Request) -> Response:
    principal = principal_of(request)
    page = study_page(get_store(request), sites=principal.site_filter, today=date.today())
    return render(request, "subjects.html", study=page, rows=page.subjects, schedule=page.schedule)


@router.get("/subjects/new", name="enrol_form", response_class=HTMLResponse)
def enrol_form(request: Request) -> Response:
    return _enrol_page(request, values={}, errors={})


def _enrol_page(
    request: Request, *, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    page = study_page(get_store(request), sites=[], today=date.today())
    return render(
        request,
        "enrol.html",
        status_code=status,
        protocol=page.protocol,
        sites=principal_of(request).visible(page.sites),
        values=values,
        errors=errors,
    )


@router.post("/subjects", name="enrol_save", response_class=HTMLResponse)
async def enrol_save(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    principal = principal_of(request)
    if not principal.sees_site(form.get("site", "")):
        return _enrol_page(
            request, values=form, errors={"site": "choose one of your sites"}, status=400
        )
    try:
        payload = enrolment_payload(form)
        result = await run_in_threadpool(_enrol, get_store(request), principal, payload)
    except PustulaError as exc:
        return _enrol_page(request, values=form, errors={error_field(exc): exc.message}, status=400)
    return render(request, "enrol_result.html", result=result, code=form.get("code", ""))


def _enrol(store: Store, principal: Principal, payload: dict[str, Any]) -> Any:
    return enrol(store, principal.username, payload)


@router.get("/subjects/{code}", name="subject_timeline", response_class=HTMLResponse)
@reads_whole_record
async def timeline(request: Request, code: str) -> Response:
    # the access check has read the record; rendering needs no thread of its own
    protocol, data = scoped_protocol(request), scoped_timeline(request)
    trend = [
        (v.visit_code, a.total)
        for v in data.visits
        for a in data.assessments[v.id]
        if a.instrument == "pppasi" and a.total is not None
    ]
    return render(request, "timeline.html", t=data, protocol=protocol, trend=trend)


def _visit_page(
    request: Request,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    edit: AssessmentView | None = None,
) -> Response:
    subject = scoped_subject(request)
    protocol = scoped_protocol(request)
    done = {v.visit_code for v in scoped_timeline(request).visits}
    return render(
        request,
        "visit.html",
        status_code=status,
        subject=subject,
        protocol=protocol,
        done=done,
        values=values,
        errors=errors,
        regions=REGIONS,
        signs=SIGNS,
        edit=edit,
    )


@router.get("/subjects/{code}/visits/new", name="visit_form", response_class=HTMLResponse)
def visit_form(request: Request, code: str, visit: str = "") -> Response:
    return _visit_page(
        request, values={"visit_code": visit, "visit_date": date.today().isoformat()}, errors={}
    )


@router.post("/subjects/{code}/visits", name="visit_save", response_class=HTMLResponse)
async def visit_save(request: Request, code: str) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf"}
    planned = {v.code: v.instruments for v in scoped_protocol(request).visits}
    items = assessment_items(form, collected=planned.get(form.get("visit_code", ""), ()))
    errors = field_errors(items)
    try:
        when = date.fromisoformat(form.get("visit_date", ""))
    except ValueError:
        errors["visit_date"] = "enter the visit date as YYYY-MM-DD"
    if errors:
        return _visit_page(request, values=form, errors=errors, status=400)
    try:
        await run_in_threadpool(_save_visit, request, form["visit_code"], when, items)
    except PustulaError as exc:
        return _visit_page(request, values=form, errors={error_field(exc): exc.message}, status=400)
    return RedirectResponse(f"/subjects/{code}?saved={form['visit_code']}", status_code=303)


def _save_visit(request: Request, visit_code: str, when: date, items: dict[str, Any]) -> None:
    save_visit(
        get_store(request),
        principal_of(request).username,
        protocol=scoped_protocol(request),
        subject=scoped_subject(request),
        visit_code=visit_code,
        visit_date=when,
        assessments=items,
    )


def _assessment_of(request: Request, assessment_id: int) -> AssessmentView:
    return assessment_of(
        get_store(request), subject_id=scoped_subject(request).id, assessment_id=assessment_id
    )


@router.get(
    "/subjects/{code}/assessments/{assessment_id}/edit",
    name="assessment_edit_form",
    response_class=HTMLResponse,
)
def assessment_edit_form(request: Request, code: str, assessment_id: int) -> Response:
    assessment = _assessment_of(request, assessment_id)
    values = {k: str(v) for k, v in assessment.items.items() if v is not None}
    values["version"] = str(assessment.version)
    return render(
        request,
        "edit_assessment.html",
        assessment=assessment,
        values=values,
        errors={},
        subject=scoped_subject(request),
        regions=REGIONS,
        signs=SIGNS,
    )


@router.post(
    "/subjects/{code}/assessments/{assessment_id}/edit",
    name="assessment_edit_save",
    response_class=HTMLResponse,
)
async def assessment_edit_save(request: Request, code: str, assessment_id: int) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf"}
    assessment = _assessment_of(request, assessment_id)
    names = PPPASI_FIELDS if assessment.instrument == "pppasi" else tuple(assessment.items)
    items = {n: number(form.get(n, "")) for n in names}
    errors = field_errors({assessment.instrument: items})
    reason = form.get("reason", "").strip()
    if not reason:
        errors["reason"] = "say why the saved value is changed (it goes into the audit trail)"
    if not errors:
        try:
            await run_in_threadpool(
                _update, request, assessment_id, items, int(form.get("version", "0")), reason
            )
            return RedirectResponse(f"/subjects/{code}?edited={assessment_id}", status_code=303)
        except ConflictError as exc:
            errors["_form"] = exc.message
        except PustulaError as exc:
            errors[error_field(exc)] = exc.message
    return render(
        request,
        "edit_assessment.html",
        status_code=400 if errors else 200,
        assessment=assessment,
        values=form,
        errors=errors,
        subject=scoped_subject(request),
        regions=REGIONS,
        signs=SIGNS,
    )


def _update(
    request: Request, assessment_id: int, items: dict[str, Any], version: int, reason: str
) -> None:
    edit_assessment(
        get_store(request),
        principal_of(request).username,
        reason=reason,
        subject_id=scoped_subject(request).id,
        assessment_id=assessment_id,
        items=items,
        expected_version=version,
    )


def _record_page(
    request: Request,
    kind: str,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "record_form.html",
        status_code=status,
        kind=kind,
        spec=RECORD_FORMS[kind],
        subject=scoped_subject(request),
        values=values,
        errors=errors,
    )


def _record_routes(kind: RecordKind, path: str) -> None:
    def form_page(request: Request, code: str) -> Response:
        return _record_page(request, kind, values={}, errors={})

    async def save(request: Request, code: str) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf"}
        try:
            data = parse_record(kind, form)
            await run_in_threadpool(_add_record, request, kind, data)
        except PustulaError as exc:
            return _record_page(
                request, kind, values=form, errors={error_field(exc): exc.message}, status=400
            )
        return RedirectResponse(f"/subjects/{code}?saved={kind}", status_code=303)

    router.add_api_route(
        f"/subjects/{{code}}/{path}/new",
        form_page,
        methods=["GET"],
        name=f"{kind}_form",
        response_class=HTMLResponse,
    )
    router.add_api_route(
        f"/subjects/{{code}}/{path}",
        save,
        methods=["POST"],
        name=f"{kind}_save",
        response_class=HTMLResponse,
    )


def _add_record(request: Request, kind: RecordKind, data: dict[str, Any]) -> None:
    user, code = principal_of(request).username, scoped_subject(request).code
    add_subject_record(get_store(request), user, kind, code, data)


_record_routes("ae", "ae")
_record_routes("lab", "labs")
_record_routes("conmed", "conmeds")


@router.get("/history/{table}/{record_id}", name="record_history", response_class=HTMLResponse)
def record_history(request: Request, table: str, record_id: int) -> Response:
    try:
        site, subject, rows = history_of(get_store(request), table, record_id)
    except PustulaError:
        raise HTTPException(status_code=404, detail="No such record.") from None
    if not principal_of(request).sees_site(site):
        raise HTTPException(status_code=404, detail="No such record.")
    return render(
        request, "history.html", rows=rows, table=table, record_id=record_id, subject=subject
    )


@router.get("/audit", name="audit_trail", response_class=HTMLResponse)
@long_read
def audit_trail(request: Request, table: str | None = None) -> Response:
    rows, report = audit_page(get_store(request), table=table or None, last=500)
    return render(
        request,
        "history.html",
        rows=list(reversed(rows)),
        table=table or "all tables",
        record_id=None,
        subject=None,
        chain=report,
    )


@router.get("/report", name="report_page", response_class=HTMLResponse)
@long_read
def report_page(request: Request) -> Response:
    report = report_for(get_store(request), principal_of(request))
    return HTMLResponse(render_html(report))


@router.get("/report.pdf", name="report_pdf")
@long_read
def report_pdf(request: Request) -> Response:
    report = report_for(get_store(request), principal_of(request))
    return Response(
        render_pdf(report),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{report.study.code}-report.pdf"'},
    )
