"""Server-rendered pages. Routes parse input and call scoring, checks and the store."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pustula.checks.spreadsheet import inert
from pustula.errors import ConflictError, LockedError, PustulaError
from pustula.store import Store
from pustula.store.audit.search import AuditFilter, audit_batches, search_audit
from pustula.store.monitoring.on_save import run_answering
from pustula.store.records.views import AssessmentView
from pustula.store.services.clinical import (
    assessment_of,
    chain_report,
    edit_assessment,
    record_captions,
    save_visit,
    study_page,
    study_protocol,
)
from pustula.store.services.clinical import record_history as history_of
from pustula.store.services.trial import randomization_of, subject_arm
from pustula.web.deps import (
    authorize,
    get_store,
    principal_of,
    scoped_protocol,
    scoped_subject,
    scoped_timeline,
)
from pustula.web.fields import error_messages
from pustula.web.forms import REGIONS, SIGNS
from pustula.web.history import TABLES, Names, exported_value, grouped, readable
from pustula.web.render import form_status, render
from pustula.web.throughput import long_read, reads_whole_record
from pustula.web.views import dashboard_view
from pustula.web.visit_form import INSTRUMENTS, PGA, SEVERITY, dlqi_items, read_visit_form

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
    order = {v.code: i for i, v in enumerate(protocol.visits)}
    visits = sorted(data.visits, key=lambda v: (order.get(v.visit_code, len(order)), v.id))
    randomized = (
        await run_in_threadpool(_randomization, request, code) if protocol.randomized else None
    )
    return render(request, "timeline.html", t=data, protocol=protocol, trend=trend, visits=visits,
                  randomized=randomized)  # fmt: skip


def _randomization(request: Request, code: str) -> dict[str, Any]:
    """A randomized subject's allocation as this user may see it: the arm for unblinded
    roles only."""
    store, protocol = get_store(request), scoped_protocol(request)
    done = randomization_of(store, code)
    arm = subject_arm(store, code) if done and principal_of(request).can("unblinded") else None
    labels = {a.code: a.label for a in protocol.arms}
    assert protocol.randomization is not None
    return {
        "done": done,
        "arm": labels.get(arm or ""),
        "blinded": protocol.randomization.blinded,
    }


def _instrument_context(request: Request) -> dict[str, Any]:
    return {
        "regions": REGIONS, "signs": SIGNS, "severity": SEVERITY, "pga_choices": PGA,
        "dlqi": dlqi_items(request.app.state.dlqi_wording),
    }  # fmt: skip


def _visit_page(
    request: Request, *, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    subject = scoped_subject(request)
    protocol = scoped_protocol(request)
    t = scoped_timeline(request)
    done = {v.visit_code for v in t.visits}
    return render(
        request, "visit.html", status_code=form_status(t, errors, status), subject=subject,
        protocol=protocol, t=t, done=done, values=values, errors=errors, instruments=INSTRUMENTS,
        **_instrument_context(request),
    )  # fmt: skip


@router.get("/subjects/{code}/visits/new", name="visit_form", response_class=HTMLResponse)
def visit_form(request: Request, code: str, visit: str = "") -> Response:
    return _visit_page(request, values={"visit_code": visit}, errors={})


@router.post("/subjects/{code}/visits", name="visit_save", response_class=HTMLResponse)
async def visit_save(request: Request, code: str) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf"}
    planned = {v.code: v.instruments for v in scoped_protocol(request).visits}
    visit_code = form.get("visit_code", "")
    errors: dict[str, str] = {}
    if visit_code not in planned:
        errors["visit_code"] = "choose the visit"
    items, not_done, item_errors = read_visit_form(form, collected=planned.get(visit_code, ()))
    errors |= item_errors
    try:
        when = date.fromisoformat(form.get("visit_date", ""))
    except ValueError:
        errors["visit_date"] = (
            "enter the visit date as YYYY-MM-DD" if form.get("visit_date") else "is required"
        )
    if errors:
        return _visit_page(request, values=form, errors=errors, status=400)
    try:
        await run_in_threadpool(_save_visit, request, visit_code, when, items, not_done)
    except LockedError as exc:
        return _visit_page(request, values=form, errors={"_locked": exc.message})
    except PustulaError as exc:
        return _visit_page(
            request, values=form, errors=error_messages(exc, [*form, "visit_date"]), status=400
        )
    return RedirectResponse(f"/subjects/{code}?saved={visit_code}", status_code=303)


def _save_visit(
    request: Request, visit_code: str, when: date, items: dict[str, Any], not_done: dict[str, str]
) -> None:
    save_visit(
        get_store(request), principal_of(request).username, protocol=scoped_protocol(request),
        subject=scoped_subject(request), visit_code=visit_code, visit_date=when,
        assessments=items, not_done=not_done,
    )  # fmt: skip


def _assessment_of(request: Request, assessment_id: int) -> AssessmentView:
    return assessment_of(
        get_store(request), subject_id=scoped_subject(request).id, assessment_id=assessment_id
    )


def _edit_page(
    request: Request, assessment: AssessmentView, values: dict[str, str], errors: dict[str, str]
) -> Response:
    t = scoped_timeline(request)
    status = form_status(t, errors, 400 if errors else 200)
    return render(
        request, "edit_assessment.html", status_code=409 if assessment.by_patient else status,
        t=t, assessment=assessment, values=values, errors=errors, subject=scoped_subject(request),
        instruments=(assessment.instrument,), **_instrument_context(request),
    )  # fmt: skip


@router.get(
    "/subjects/{code}/assessments/{assessment_id}/edit",
    name="assessment_edit_form",
    response_class=HTMLResponse,
)
def assessment_edit_form(request: Request, code: str, assessment_id: int) -> Response:
    assessment = _assessment_of(request, assessment_id)
    values = {k: str(v) for k, v in assessment.items.items() if v is not None}
    if assessment.not_done_reason:
        values |= {
            f"{assessment.instrument}_not_done": "on",
            f"{assessment.instrument}_not_done_reason": assessment.not_done_reason,
        }
    values["version"] = str(assessment.version)
    return _edit_page(request, assessment, values, {})


@router.post(
    "/subjects/{code}/assessments/{assessment_id}/edit",
    name="assessment_edit_save",
    response_class=HTMLResponse,
)
async def assessment_edit_save(request: Request, code: str, assessment_id: int) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf"}
    assessment = _assessment_of(request, assessment_id)
    name = assessment.instrument
    items, not_done, errors = read_visit_form(form, collected=(name,))
    reason = form.get("reason", "").strip()
    if not reason:
        errors["reason"] = "say why the saved value is changed (it goes into the audit trail)"
    if not errors:
        try:
            query = request.query_params.get("query", "")
            await run_in_threadpool(
                run_answering, int(query) if query.isdigit() else None, _update, request,
                assessment_id, items.get(name), not_done.get(name),
                int(form.get("version", "0") or 0), reason,
            )  # fmt: skip
            return RedirectResponse(f"/subjects/{code}?edited={assessment_id}", status_code=303)
        except ConflictError as exc:
            errors["_form"] = exc.message
        except LockedError as exc:
            errors = {"_locked": exc.message}
        except PustulaError as exc:
            errors = error_messages(exc, list(form))
    return _edit_page(request, assessment, form, errors)


def _update(
    request: Request,
    assessment_id: int,
    items: dict[str, Any] | None,
    not_done_reason: str | None,
    version: int,
    reason: str,
) -> None:
    edit_assessment(
        get_store(request), principal_of(request).username, reason=reason,
        subject_id=scoped_subject(request).id, assessment_id=assessment_id, items=items,
        expected_version=version, not_done_reason=not_done_reason,
    )  # fmt: skip


@router.get("/history/{table}/{record_id}", name="record_history", response_class=HTMLResponse)
def record_history(request: Request, table: str, record_id: int) -> Response:
    try:
        site, subject, rows = history_of(get_store(request), table, record_id)
    except PustulaError:
        raise HTTPException(status_code=404, detail="No such record.") from None
    if not principal_of(request).sees_site(site):
        raise HTTPException(status_code=404, detail="No such record.")
    names = _names(get_store(request), [(table, record_id), *_keys(rows)])
    title = names.record(table, record_id)
    return render(request, "history.html", entries=list(reversed(grouped(rows, names))),
                  title=title, subject=subject, filters=None)  # fmt: skip


def _audit_filter(
    request: Request, params: Mapping[str, str]
) -> tuple[AuditFilter, dict[str, str]]:
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name in ("since", "until"):
        text = params.get(name, "").strip()
        try:
            days[name] = date.fromisoformat(text) if text else None
        except ValueError:
            errors[name] = "enter a date as YYYY-MM-DD"
            days[name] = None
    table = params.get("table", "").strip() or None
    if table is not None and table not in TABLES:
        errors["table"] = "choose a kind of record from the list"
        table = None
    principal = principal_of(request)
    sites = None if principal.site_filter is None else tuple(principal.site_filter)
    f = AuditFilter(
        subject=params.get("subject", "").strip() or None,
        user=params.get("user", "").strip() or None, table=table, since=days["since"],
        until=days["until"], sites=sites, study=principal.study,
    )  # fmt: skip
    return f, errors


def _keys(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, int]]:
    return [(r["table"], r["record"]) for r in rows if r["record"] is not None]


def _names(store: Store, keys: list[tuple[str, int]]) -> Names:
    """These records and the protocol's visits, in words."""
    visits = {v.code: v.label for v in study_protocol(store).visits}
    return Names(record_captions(store, keys), visits)


@router.get("/audit", name="audit_trail", response_class=HTMLResponse)
@long_read
def audit_trail(request: Request, before: int | None = None) -> Response:
    params = dict(request.query_params)
    f, errors = _audit_filter(request, params)
    store = get_store(request)
    page = search_audit(store, f, before=before)
    report = chain_report(store)
    query = urlencode({k: v for k, v in params.items() if k != "before" and v})
    return render(
        request, "history.html", status_code=400 if errors else 200,
        entries=grouped(page.rows, _names(store, _keys(page.rows))), title="Audit trail",
        subject=None, chain=report, filters=params, errors=errors, older=page.older,
        query=query, tables=TABLES,
    )  # fmt: skip


@router.get("/audit.csv", name="audit_csv")
@long_read
def audit_csv(request: Request) -> Response:
    f, errors = _audit_filter(request, dict(request.query_params))
    if errors:
        raise HTTPException(status_code=400, detail="; ".join(errors.values()))
    store = get_store(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["entry", "when_utc", "user", "action", "table", "record", "subject",
                     "record_name", "field", "old_value", "new_value", "reason",
                     "change"])  # fmt: skip
    for batch in audit_batches(store, f):
        names = _names(store, _keys(batch))  # a read per batch, not per entry
        for row in batch:
            entry = readable(row, names)
            writer.writerow(map(inert, [
                row["id"], row["at"], row["user"], row["action"], row["table"], row["record"],
                entry.subject, entry.record, row["field"], exported_value(row, "old"),
                exported_value(row, "new"),
                row["reason"], entry.summary]))  # fmt: skip
    return Response(
        buffer.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="pustula-audit.csv"'},
    )  # fmt: skip
