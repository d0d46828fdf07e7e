"""Monitoring pages: data queries and their threads, source data verification, signatures
and the database lock. Who may do what is in :mod:`pustula.web.access`.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pustula.checks.spreadsheet import inert
from pustula.checks.vocabulary import field_label
from pustula.errors import PustulaError
from pustula.store.monitoring.edit_checks import RULES
from pustula.store.services import monitoring as monitor
from pustula.store.services import status as record_status
from pustula.store.services.clinical import study_page
from pustula.web.actions import ACTIONS, AE_CODING, not_now
from pustula.web.deps import authorize, get_store, principal_of, scoped_timeline
from pustula.web.fields import Field, error_messages, form_values, parse_fields
from pustula.web.history import TABLES, record_name, shown
from pustula.web.render import render

__all__ = ["EDIT_PATHS", "record_fields", "router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

STATES = {"open": "Open", "answered": "Answered", "closed": "Closed"}
KINDS = {"auto": "Automatic (edit check)", "manual": "Raised by a monitor"}
#: Where a record is corrected, so that the correction answers the query.
EDIT_PATHS = {
    "assessment": "assessments/{id}/edit", "lab": "labs/{id}/edit",
    "adverse_event": "ae/{id}/follow-up", "con_med": "conmeds/{id}/edit",
    "visit": "visits/{id}/date", "exposure": "exposure/{id}/stop",
}  # fmt: skip
#: An adverse event's MedDRA coding is corrected on a form of its own.
CODING_PATH = "ae/{id}/coding"
CODING_FIELDS = frozenset(f.name for f in AE_CODING)
_COLLECTIONS = {
    "visit": "visits", "adverse_event": "adverse_events", "lab": "labs", "con_med": "con_meds",
    "exposure": "exposure", "prior_therapy": "prior_therapies", "baseline": "baseline",
    "photograph": "photographs", "diary_entry": "diary",
}  # fmt: skip
_HIDDEN = {"id", "version", "created_at", "created_by", "updated_at", "updated_by",
           "deleted_at", "subject_id", "visit_id", "exposure_id", "subscores", "warnings",
           "instrument_version", "alerts", "treatment_emergent", "on_treatment"}  # fmt: skip


def _user(request: Request) -> str:
    return principal_of(request).username


def _sites(request: Request) -> list[str] | None:
    return principal_of(request).site_filter


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    age = q.get("min_age", "").strip()
    return {
        "subject": q.get("subject", "").strip() or None,
        "state": q.get("state") if q.get("state") in STATES else None,
        "kind": q.get("kind") if q.get("kind") in KINDS else None,
        "min_age": int(age) if age.isdigit() else None,
        "site": q.get("site", "").strip() or None,
    }


def _rows(request: Request) -> list[monitor.QueryRow]:
    f = _filters(request)
    sites = _sites(request)
    if f["site"]:
        sites = [s for s in (sites or [f["site"]]) if s == f["site"]]
    return monitor.search_queries(
        get_store(request), sites=sites, subject=f["subject"], state=f["state"],
        kind=f["kind"], min_age=f["min_age"], today=date.today(), captioned=True,
    )  # fmt: skip


def describe(row: monitor.QueryRow) -> dict[str, str]:
    q = row.query
    return {
        "record": record_name(q.table_name, q.record_id, row.record_caption),
        "field": field_label(q.field) if q.field else "",
        "kind": RULES.get(q.rule or "", "")
        if q.kind == "auto"
        else "Data quality rule"
        if (q.rule or "").startswith("quality:")
        else "Monitor",
        "state": STATES.get(q.state, q.state),
        "value": shown(q.table_name, q.field, row.value) if q.field else "",
    }


@router.get("/queries", name="query_list", response_class=HTMLResponse)
def query_list(request: Request) -> Response:
    rows = _rows(request)
    page = study_page(get_store(request), sites=[], today=date.today())
    return render(request, "queries.html", rows=[(r, describe(r)) for r in rows],
                  filters=dict(request.query_params), states=STATES, kinds=KINDS,
                  sites=principal_of(request).visible(page.sites),
                  query=str(request.url.query))  # fmt: skip


@router.get("/queries.csv", name="query_csv")
def query_csv(request: Request) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["query", "site", "subject", "record", "field", "kind", "check", "state",
                     "opened_utc", "closed_utc", "age_days", "text"])  # fmt: skip
    for row in _rows(request):
        q, words = row.query, describe(row)
        writer.writerow(map(inert, [
            q.id, row.site, row.subject, words["record"], words["field"], q.kind, q.rule or "",
            q.state, q.opened_at, q.closed_at or "", row.age_days, q.text]))  # fmt: skip
    disposition = 'attachment; filename="queries.csv"'
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": disposition})  # fmt: skip


def _thread(request: Request, query_id: int) -> tuple[monitor.QueryRow, list[Any]]:
    try:
        row, messages = monitor.query_thread(get_store(request), query_id)
    except PustulaError:
        raise HTTPException(status_code=404, detail="No such query.") from None
    if not principal_of(request).sees_site(row.site):
        raise HTTPException(status_code=404, detail="No such query.")
    return row, messages


def _query_page(
    request: Request, query_id: int, errors: dict[str, str], values: dict[str, str]
) -> Response:
    row, messages = _thread(request, query_id)
    q = row.query
    edit, refused = _correction(row)
    correct = (f"/subjects/{row.subject}/{edit.format(id=q.record_id)}?query={q.id}"
               if edit else None)  # fmt: skip
    return render(request, "query.html", status_code=400 if errors else 200, row=row,
                  words=describe(row), messages=messages, correct=correct, not_now=refused,
                  errors=errors, values=values)  # fmt: skip


_ACTION_AT = {a.path.replace("{record_id}", "{id}"): a for a in ACTIONS}


def _correction(row: monitor.QueryRow) -> tuple[str | None, str]:
    """Where the queried record is corrected, or why it cannot be now (a link to a form
    that would only refuse is no help)."""
    q = row.query
    edit = CODING_PATH if q.field in CODING_FIELDS else EDIT_PATHS.get(q.table_name)
    action = _ACTION_AT.get(edit or "")
    if action is not None and row.subject_status not in action.states:
        return None, not_now(action, row.subject_status)
    return edit, ""


@router.get("/queries/{query_id}", name="query_detail", response_class=HTMLResponse)
def query_detail(request: Request, query_id: int) -> Response:
    return _query_page(request, query_id, {}, {})


def _step(action: str) -> Any:
    async def step(request: Request, query_id: int) -> Response:
        _thread(request, query_id)  # the site check
        values = form_values(await request.form())
        text = str(values.get("text", "")).strip()
        if not text:
            return _query_page(request, query_id, {"text": "is required"}, {"text": text})
        try:
            await run_in_threadpool(
                monitor.query_step, get_store(request), _user(request), query_id, action, text
            )
        except PustulaError as exc:
            return _query_page(request, query_id, error_messages(exc, ["text"]),
                               {"text": text})  # fmt: skip
        return RedirectResponse(f"/queries/{query_id}", status_code=303)

    return step


for _action in ("answer", "close", "reopen"):
    router.add_api_route(f"/queries/{{query_id}}/{_action}", _step(_action), methods=["POST"],
                         name=f"query_{_action}", response_class=HTMLResponse)  # fmt: skip


def record_fields(
    request: Request, table: str, record_id: int
) -> tuple[Any, list[tuple[str, str]]]:
    """The record of the subject in the path, and its fields as (name, label) choices."""
    if table not in (*_COLLECTIONS, "assessment", "subject") or record_id < 1:
        raise HTTPException(status_code=400, detail="Choose a record of this subject.")
    t = scoped_timeline(request)
    found: Any
    if table == "assessment":
        found = next((a for items in t.assessments.values() for a in items
                      if a.id == record_id), None)  # fmt: skip
    elif table == "subject":
        found = t.subject if t.subject.id == record_id else None
    else:
        rows = getattr(t, _COLLECTIONS.get(table, ""), None)
        rows = [rows] if rows is not None and not isinstance(rows, list) else rows
        found = next((r for r in rows or [] if r.id == record_id), None)
    if found is None:
        raise HTTPException(status_code=404, detail="No such record for this subject.")
    names = [n for n in found.as_dict() if n not in _HIDDEN]
    if table == "assessment":
        names = [n for n in names if n != "items"] + list(found.items)
    return found, [(n, field_label(n)) for n in names]


def _query_form(request: Request, code: str, table: str, record: int,
                values: dict[str, Any], errors: dict[str, str]) -> Response:  # fmt: skip
    found, fields = record_fields(request, table, record)
    spec = (Field("field", "Which field", "select", tuple(fields)),
            Field("text", "Question for the site", "textarea", required=True))  # fmt: skip
    return render(request, "query_form.html", status_code=400 if errors else 200, code=code,
                  table=table, record=found, what=TABLES.get(table, table), fields=spec,
                  by_name={f.name: f for f in spec}, values=values, errors=errors)  # fmt: skip


@router.get("/subjects/{code}/queries/new", name="query_form", response_class=HTMLResponse)
def query_form(request: Request, code: str, table: str = "", record: int = 0) -> Response:
    return _query_form(request, code, table, record, {}, {})


@router.post("/subjects/{code}/queries", name="query_save", response_class=HTMLResponse)
async def query_save(request: Request, code: str) -> Response:
    values = form_values(await request.form())
    table, record = str(values.get("table", "")), str(values.get("record", "0"))
    record_id = int(record) if record.isdigit() else 0
    _, fields = record_fields(request, table, record_id)
    spec = (Field("field", "Which field", "select", tuple(fields)),
            Field("text", "Question for the site", "textarea", required=True))  # fmt: skip
    data, errors = parse_fields(spec, values)
    if not errors:
        try:
            query = await run_in_threadpool(
                lambda: monitor.raise_query(
                    get_store(request), _user(request), code, table=table,
                    record_id=record_id, field=data.get("field"), text=data["text"],
                )
            )  # fmt: skip
            return RedirectResponse(f"/queries/{query.id}", status_code=303)
        except PustulaError as exc:
            errors = error_messages(exc, ["field", "text"])
    return _query_form(request, code, table, record_id, values, errors)


@router.post("/subjects/{code}/verify", name="verify_save")
async def verify_save(request: Request, code: str) -> Response:
    """Verify one record (``table`` and ``record``), or a group in one action: ``group`` is
    ``visit:ID`` (the visit with its assessments) or a form's table (all its records)."""
    values = form_values(await request.form())
    group = str(values.get("group", ""))
    if group:
        records = _group(scoped_timeline(request), group)
        done = await run_in_threadpool(
            monitor.verify_records, get_store(request), _user(request), code, records
        )
        left = ";".join(f"{table}:{record}" for table, record, _ in done.left)
        query = urlencode({"saved": "verified", "verified": done.verified, "left": left})
        return RedirectResponse(f"/subjects/{code}?{query}#sdv-result", status_code=303)
    table, record = str(values.get("table", "")), str(values.get("record", ""))
    record_fields(request, table, int(record) if record.isdigit() else 0)  # the record is theirs
    await run_in_threadpool(
        lambda: monitor.verify(get_store(request), _user(request), code, table=table,
                               record_id=int(record)))  # fmt: skip
    return RedirectResponse(f"/subjects/{code}?saved=verified", status_code=303)


#: A form's records in the subject's timeline, by table.
_FORM_RECORDS = {table: collection for collection, table, _ in record_status.FORMS}


def _group(t: Any, group: str) -> list[tuple[str, int]]:
    """The records of a visit (``visit:ID``) or of a form (its table), of this subject only."""
    kind, _, ident = group.partition(":")
    if kind == "visit" and ident.isdigit():
        visit = next((v for v in t.visits if v.id == int(ident)), None)
        if visit is not None:
            return [("visit", visit.id), *(("assessment", a.id) for a in t.assessments[visit.id])]
    elif kind in _FORM_RECORDS and not ident:
        return [(kind, r.id) for r in getattr(t, _FORM_RECORDS[kind])]
    raise HTTPException(status_code=400, detail="Choose a visit or a form of this subject.")


@router.get("/status", name="status_grid", response_class=HTMLResponse)
def status_page(request: Request, site: str = "") -> Response:
    """Subjects × visits and forms, each cell's state in colour and words."""
    principal = principal_of(request)
    grid = record_status.status_grid(
        get_store(request), sites=principal.site_filter, today=date.today(), site=site or None
    )
    page = study_page(get_store(request), sites=[], today=date.today())
    return render(request, "status.html", grid=grid, states=record_status.STATES,
                  forms=record_status.FORMS, site=site,
                  sites=principal.visible(page.sites))  # fmt: skip


@router.get("/sdv", name="sdv_page", response_class=HTMLResponse)
def sdv_page(request: Request) -> Response:
    rows = monitor.sdv_progress(get_store(request), sites=_sites(request))
    by_site: dict[str, list[int]] = {}
    for r in rows:
        total = by_site.setdefault(r.site, [0, 0])
        total[0] += r.verified
        total[1] += r.records
    return render(request, "sdv.html", rows=rows, by_site=by_site)


SIGN_MEANINGS = tuple((m, m) for m in monitor.MEANINGS)


def _sign_fields(visit: bool) -> tuple[Field, ...]:
    meanings = [m for m in SIGN_MEANINGS if ("visit" in m[0]) == visit]
    return (
        Field("meaning", "What your signature means", "radio", tuple(meanings), required=True),
        Field("username", "Your user name", required=True),
        Field("password", "Your password", "password", required=True,
              hint="Re-entered for each signature (21 CFR 11.200)."),
    )  # fmt: skip


def _sign_page(request: Request, code: str, visit: int | None, values: dict[str, Any],
               errors: dict[str, str]) -> Response:  # fmt: skip
    t = scoped_timeline(request)
    target = next((v for v in t.visits if v.id == visit), None) if visit else None
    if visit and target is None:
        raise HTTPException(status_code=404, detail="No such visit for this subject.")
    fields = _sign_fields(visit is not None)
    return render(request, "sign.html", status_code=400 if errors else 200, code=code,
                  visit=target, fields=fields, by_name={f.name: f for f in fields},
                  values={k: v for k, v in values.items() if k != "password"},
                  errors=errors)  # fmt: skip


@router.get("/subjects/{code}/sign", name="sign_form", response_class=HTMLResponse)
def sign_form(request: Request, code: str, visit: int | None = None) -> Response:
    return _sign_page(request, code, visit, {}, {})


@router.post("/subjects/{code}/sign", name="sign_save", response_class=HTMLResponse)
async def sign_save(request: Request, code: str, visit: int | None = None) -> Response:
    values = form_values(await request.form())
    fields = _sign_fields(visit is not None)
    data, errors = parse_fields(fields, values)
    if not errors:
        try:
            await run_in_threadpool(
                lambda: monitor.sign(get_store(request), _user(request), username=data["username"],
                                     password=data["password"], code=code,
                                     meaning=data["meaning"], visit_id=visit))  # fmt: skip
            return RedirectResponse(f"/subjects/{code}?saved=signed", status_code=303)
        except PustulaError as exc:
            errors = error_messages(exc, ["meaning", "username", "password"])
            if exc.code == "signature_refused":
                errors = {"password": exc.message}
    return _sign_page(request, code, visit, values, errors)


@router.get("/study/lock", name="lock_page", response_class=HTMLResponse)
def lock_page(request: Request) -> Response:
    return _lock_page(request, {}, {})


def _lock_page(request: Request, values: dict[str, Any], errors: dict[str, str]) -> Response:
    locks = monitor.lock_status(get_store(request))
    page = study_page(get_store(request), sites=_sites(request), today=date.today())
    codes = {s.id: s.code for s in page.subjects}
    return render(request, "lock.html", status_code=400 if errors else 200, locks=locks,
                  codes=codes, subjects=[s.code for s in page.subjects], values=values,
                  errors=errors)  # fmt: skip


def _locker(unlock: bool) -> Any:
    async def save(request: Request) -> Response:
        values = form_values(await request.form())
        reason = str(values.get("reason", "")).strip()
        subject = str(values.get("subject", "")).strip() or None
        if not reason:
            return _lock_page(request, values, {"reason": "is required"})
        service = monitor.unlock if unlock else monitor.lock
        try:
            await run_in_threadpool(lambda: service(get_store(request), _user(request),
                                                    reason=reason, subject=subject))  # fmt: skip
        except PustulaError as exc:
            return _lock_page(request, values, error_messages(exc, ["reason"]))
        return RedirectResponse("/study/lock", status_code=303)

    return save


router.add_api_route("/study/lock", _locker(False), methods=["POST"], name="lock_save",
                     response_class=HTMLResponse)  # fmt: skip
router.add_api_route("/study/unlock", _locker(True), methods=["POST"], name="unlock_save",
                     response_class=HTMLResponse)  # fmt: skip
