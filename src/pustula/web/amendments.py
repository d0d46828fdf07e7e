"""Protocol amendments in the web app: the versions of the open study's protocol, a new
version uploaded as a draft, its review (what it changes, what it does to the collected
data), its signed approval, and the subjects who must consent again (decision 0020)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pustula.errors import PustulaError, RecordNotFoundError
from pustula.store.services import amendments
from pustula.web.deps import authorize, get_store, principal_of
from pustula.web.fields import Field, error_messages, form_values, parse_fields
from pustula.web.render import render
from pustula.web.studies import protocol_upload_text

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

UPLOAD_FIELDS = (
    Field("summary", "What the amendment changes, and why", "textarea", required=True,
          hint="For example: adds a week-8 visit at the ethics committee's request."),
    Field("effective_on", "Takes effect on", "date", required=True,
          hint="The day the amendment applies at the sites (usually its ethics approval). "
               "Visits from that day are judged by its windows."),
)  # fmt: skip

APPROVE_FIELDS = (
    Field("reason", "Why it is approved", "textarea", required=True,
          hint="For example: ethics committee approval EC-2024-117 of 12 June 2024."),
    Field("reconsent", "Must subjects still in the study consent again?", "yes_no",
          required=True,
          hint="Yes when the change affects what subjects agreed to (a new visit, a new "
               "risk). They are then listed until their new consent is recorded."),
    Field("username", "Your user name", required=True),
    Field("password", "Your password", "password", required=True,
          hint="Re-entered to sign the approval (21 CFR 11.200)."),
)  # fmt: skip

WITHDRAW_FIELDS = (Field("withdraw_reason", "Why it is withdrawn", "textarea", required=True),)

CONSENT_FIELD = Field("consented_on", "Date of the new consent", "date", required=True)


def _user(request: Request) -> str:
    return principal_of(request).username


def _protocol_page(request: Request, values: dict[str, Any], errors: dict[str, str],
                   problems: list[Any] | None = None, status: int = 200) -> Response:  # fmt: skip
    versions = amendments.protocol_versions(get_store(request))
    return render(request, "protocol.html", status_code=status, versions=versions,
                  fields=UPLOAD_FIELDS, values=values, errors=errors,
                  problems=problems or [],
                  may_amend=principal_of(request).can("admin"))  # fmt: skip


@router.get("/study/protocol", name="protocol_page", response_class=HTMLResponse)
def protocol_page(request: Request) -> Response:
    return _protocol_page(request, {}, {})


@router.post("/study/protocol", name="protocol_upload", response_class=HTMLResponse)
async def protocol_upload(request: Request) -> Response:
    form = await request.form()
    try:
        values = form_values(form, UPLOAD_FIELDS)
        text, problem = await protocol_upload_text(form)
    finally:
        await form.close()
    values = {k: v for k, v in values.items() if k != "protocol"}
    data, errors = parse_fields(UPLOAD_FIELDS, values)
    if problem:
        errors["protocol"] = problem
    problems: list[Any] = []
    if text is not None and not errors:
        version, found = await run_in_threadpool(lambda: amendments.upload_amendment(
            get_store(request), _user(request), text=text, summary=data["summary"],
            effective_on=data["effective_on"]))  # fmt: skip
        if version is not None:
            return RedirectResponse(f"/study/protocol/{version}?saved=draft", status_code=303)
        for p in found:
            if p.field in ("summary", "effective_on") and p.line is None:
                errors[p.field] = p.message
            else:
                problems.append(p)
        if problems:
            count = len(problems)
            errors["protocol"] = (
                f"the protocol file has {count} problems, listed below"
                if count > 1 else "the protocol file has a problem, listed below"
            )  # fmt: skip
    return _protocol_page(request, values, errors, problems, 400)


def _review_page(request: Request, version: str, values: dict[str, Any],
                 errors: dict[str, str]) -> Response:  # fmt: skip
    store = get_store(request)
    try:
        review = amendments.review_amendment(store, version)
    except RecordNotFoundError as exc:
        raise HTTPException(status_code=404, detail="No such protocol version.") from exc
    return render(request, "protocol_version.html", status_code=400 if errors else 200,
                  review=review, fields=APPROVE_FIELDS, withdraw_fields=WITHDRAW_FIELDS,
                  values={k: v for k, v in values.items() if k != "password"},
                  errors=errors, may_amend=principal_of(request).can("admin"))  # fmt: skip


@router.get("/study/protocol/{version}", name="protocol_version", response_class=HTMLResponse)
def protocol_version(request: Request, version: str) -> Response:
    return _review_page(request, version, {}, {})


@router.post("/study/protocol/{version}/approve", name="amendment_approve",
             response_class=HTMLResponse)  # fmt: skip
async def amendment_approve(request: Request, version: str) -> Response:
    values = form_values(await request.form(), APPROVE_FIELDS)
    data, errors = parse_fields(APPROVE_FIELDS, values)
    if not errors:
        try:
            await run_in_threadpool(lambda: amendments.approve_amendment(
                get_store(request), _user(request), version=version,
                username=data["username"], password=data["password"], reason=data["reason"],
                reconsent=data["reconsent"]))  # fmt: skip
            return RedirectResponse(f"/study/protocol/{version}?saved=approved", status_code=303)
        except PustulaError as exc:
            errors = error_messages(exc, [f.name for f in APPROVE_FIELDS])
            if exc.code == "signature_refused":
                errors = {"password": exc.message}
    return _review_page(request, version, values, errors)


@router.post("/study/protocol/{version}/withdraw", name="amendment_withdraw",
             response_class=HTMLResponse)  # fmt: skip
async def amendment_withdraw(request: Request, version: str) -> Response:
    values = form_values(await request.form(), WITHDRAW_FIELDS)
    data, errors = parse_fields(WITHDRAW_FIELDS, values)
    if not errors:
        try:
            await run_in_threadpool(lambda: amendments.withdraw_amendment(
                get_store(request), _user(request), version=version,
                reason=data["withdraw_reason"]))  # fmt: skip
            return RedirectResponse(f"/study/protocol/{version}?saved=withdrawn", status_code=303)
        except PustulaError as exc:
            errors = {"withdraw_reason": error_messages(exc, ["reason"]).popitem()[1]}
    return _review_page(request, version, values, errors)


def _consent_page(request: Request, values: dict[str, Any], errors: dict[str, str],
                  subject: str | None = None) -> Response:  # fmt: skip
    principal = principal_of(request)
    due = amendments.consents_due(get_store(request), sites=principal.site_filter)
    return render(request, "consent.html", status_code=400 if errors else 200, due=due,
                  field=CONSENT_FIELD, values=values, errors=errors, failed=subject,
                  may_record=principal.can("enter"))  # fmt: skip


@router.get("/study/consent", name="consent_list", response_class=HTMLResponse)
def consent_list(request: Request) -> Response:
    return _consent_page(request, {}, {})


@router.post("/study/consent/{subject}", name="consent_save", response_class=HTMLResponse)
async def consent_save(request: Request, subject: str) -> Response:
    values = form_values(await request.form(), (CONSENT_FIELD,))
    data, errors = parse_fields((CONSENT_FIELD,), values)
    principal = principal_of(request)
    if not errors:
        try:
            await run_in_threadpool(lambda: amendments.record_reconsent(
                get_store(request), principal.username, subject=subject,
                on=data["consented_on"], today=date.today(),
                sites=principal.site_filter))  # fmt: skip
            return RedirectResponse(f"/study/consent?saved={subject}", status_code=303)
        except RecordNotFoundError as exc:
            raise HTTPException(status_code=404, detail="No such subject.") from exc
        except PustulaError as exc:
            errors = error_messages(exc, ["consented_on"])
    return _consent_page(request, values, errors, subject)
