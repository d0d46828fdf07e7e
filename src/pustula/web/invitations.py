"""The study team's side of patient entry: invite a subject to answer their own
questionnaires at a visit (a link with a QR code to print or show, or a kiosk session on
this device), and mark a patient's answers as not used, with a reason.

A kiosk session signs the coordinator out first, so that the tablet handed to the patient
opens nothing but the patient's questionnaires.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict
from pydantic import Field as Field_
from starlette.concurrency import run_in_threadpool

from pustula.errors import PustulaError
from pustula.store.accounts.sessions import end_session
from pustula.store.records.patient import KINDS, LANGUAGES
from pustula.store.services.clinical import assessment_of
from pustula.store.services.patient import (
    invite,
    invite_diary,
    mark_diary_day_not_used,
    mark_not_used,
)
from pustula.web.deps import authorize, get_store, principal_of, scoped_timeline
from pustula.web.fields import Field, error_messages, form_values, parse_fields
from pustula.web.render import render

__all__ = ["api_router", "qr_svg", "router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

VALIDITY = (("1", "1 hour"), ("24", "1 day"), ("72", "3 days"), ("168", "7 days"))
INVITE_FIELDS = (
    Field("kind", "How the patient answers", "radio", (
        ("link", "On their own phone or computer: a link and a QR code"),
        ("kiosk", "On this device, now (kiosk mode: you are signed out first)")),
        required=True),
    Field("language", "Language of the questionnaire pages", "radio",
          tuple(LANGUAGES.items()), required=True),
    Field("hours", "The link works for", "radio", VALIDITY,
          hint="Only for a link; a kiosk session lasts at most an hour."),
)  # fmt: skip
DIARY_DAYS = (("7", "1 week"), ("14", "2 weeks"), ("28", "4 weeks"), ("56", "8 weeks"),
              ("84", "12 weeks"))  # fmt: skip
DIARY_FIELDS = (
    Field("language", "Language of the diary pages", "radio", tuple(LANGUAGES.items()),
          required=True),
    Field("days", "The diary runs for", "radio", DIARY_DAYS, required=True,
          hint="Until the next visit, usually."),
    Field("reminders", "Daily reminder by e-mail", "yes_no", required=True,
          hint="Each day without an answer, the patient gets an e-mail with a link of the "
               "day. The address is kept apart from the study data and never exported."),
    Field("email", "The patient's e-mail address", "text",
          hint="Only for reminders."),
)  # fmt: skip
DIARY_NOT_USED_FIELDS = (
    Field("reason", "Why this day is not used in the analysis", "textarea", required=True,
          hint="For example: answered for the wrong day. The day stays in the casebook and "
               "the audit trail."),
)  # fmt: skip
NOT_USED_FIELDS = (
    Field("reason", "Why these answers are not used in the analysis", "textarea",
          required=True, hint="For example: answered by a relative, not the patient. The "
          "answers stay in the casebook and the audit trail."),
)  # fmt: skip


def qr_svg(url: str) -> Markup:
    """The link as a QR code (inline SVG, error correction M), labelled for screen readers."""
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=5, border=4, dark="#000", light="#fff", omitsize=True)
    return Markup(f'<div class="qr" role="img" aria-label="QR code of the link">{svg}</div>')


def _invite_page(request: Request, code: str, visit_id: int, values: dict[str, Any],
                 errors: dict[str, str]) -> Response:  # fmt: skip
    visit = next((v for v in scoped_timeline(request).visits if v.id == visit_id), None)
    return render(request, "invite.html", status_code=400 if errors else 200, code=code,
                  visit=visit, protocol=request.state.protocol, fields=INVITE_FIELDS,
                  by_name={f.name: f for f in INVITE_FIELDS}, values=values,
                  errors=errors)  # fmt: skip


@router.get("/subjects/{code}/visits/{visit_id}/invite", name="invite_form",
            response_class=HTMLResponse)  # fmt: skip
def invite_form(request: Request, code: str, visit_id: int) -> Response:
    return _invite_page(request, code, visit_id, {}, {})


@router.post("/subjects/{code}/visits/{visit_id}/invite", name="invite_save",
             response_class=HTMLResponse)  # fmt: skip
async def invite_save(request: Request, code: str, visit_id: int) -> Response:
    values = form_values(await request.form(), INVITE_FIELDS)
    data, errors = parse_fields(INVITE_FIELDS, values)
    if not errors and data["kind"] == "link" and not data.get("hours"):
        errors = {"hours": "choose how long the link works"}
    if errors:
        return _invite_page(request, code, visit_id, values, errors)
    hours = float(data["hours"]) if data["kind"] == "link" else None
    try:
        issued = await run_in_threadpool(lambda: invite(
            get_store(request), principal_of(request).username, code, visit_id,
            kind=data["kind"], language=data["language"], hours=hours))  # fmt: skip
    except PustulaError as exc:
        return _invite_page(request, code, visit_id, values,
                            error_messages(exc, [f.name for f in INVITE_FIELDS]))  # fmt: skip
    if issued.kind == "kiosk":
        session_id = request.session.get("sid")
        if isinstance(session_id, str):
            await run_in_threadpool(end_session, get_store(request), session_id)
        request.session.clear()
        return RedirectResponse(f"/p/{issued.token}", status_code=303)
    link = f"{str(request.base_url).rstrip('/')}/p/{issued.token}"
    return render(request, "invitation.html", code=code, issued=issued, link=link,
                  qr=qr_svg(link), kinds=KINDS)  # fmt: skip


def _diary_page(request: Request, code: str, values: dict[str, Any],
                errors: dict[str, str]) -> Response:  # fmt: skip
    return render(request, "diary_invite.html", status_code=400 if errors else 200, code=code,
                  fields=DIARY_FIELDS, by_name={f.name: f for f in DIARY_FIELDS},
                  values=values, errors=errors)  # fmt: skip


@router.get("/subjects/{code}/diary/invite", name="diary_form", response_class=HTMLResponse)
def diary_form(request: Request, code: str) -> Response:
    return _diary_page(request, code, {}, {})


@router.post("/subjects/{code}/diary/invite", name="diary_save", response_class=HTMLResponse)
async def diary_save(request: Request, code: str) -> Response:
    values = form_values(await request.form(), DIARY_FIELDS)
    data, errors = parse_fields(DIARY_FIELDS, values)
    reminders = data.get("reminders") is True
    if reminders and not str(data.get("email") or "").strip():
        errors["email"] = "write the address the reminders go to"
    if errors:
        return _diary_page(request, code, values, errors)
    try:
        issued = await run_in_threadpool(lambda: invite_diary(
            get_store(request), principal_of(request).username, code,
            language=data["language"], days=int(data["days"]), reminders=reminders,
            email=str(data.get("email") or "") or None))  # fmt: skip
    except PustulaError as exc:
        return _diary_page(request, code, values,
                           error_messages(exc, [f.name for f in DIARY_FIELDS]))  # fmt: skip
    link = f"{str(request.base_url).rstrip('/')}/p/{issued.token}"
    return render(request, "invitation.html", code=code, issued=issued, link=link,
                  qr=qr_svg(link), kinds=KINDS, diary=True, reminders=reminders)  # fmt: skip


def _not_used_page(request: Request, code: str, assessment_id: int, values: dict[str, Any],
                   errors: dict[str, str]) -> Response:  # fmt: skip
    subject = request.state.subject
    found = assessment_of(get_store(request), subject_id=subject.id, assessment_id=assessment_id)
    return render(request, "not_used.html", status_code=400 if errors else 200, code=code,
                  assessment=found, fields=NOT_USED_FIELDS,
                  by_name={f.name: f for f in NOT_USED_FIELDS}, values=values,
                  errors=errors)  # fmt: skip


@router.get("/subjects/{code}/assessments/{assessment_id}/not-used", name="not_used_form",
            response_class=HTMLResponse)  # fmt: skip
def not_used_form(request: Request, code: str, assessment_id: int) -> Response:
    return _not_used_page(request, code, assessment_id, {}, {})


@router.post("/subjects/{code}/assessments/{assessment_id}/not-used", name="not_used_save",
             response_class=HTMLResponse)  # fmt: skip
async def not_used_save(request: Request, code: str, assessment_id: int) -> Response:
    values = form_values(await request.form(), NOT_USED_FIELDS)
    data, errors = parse_fields(NOT_USED_FIELDS, values)
    if not errors:
        subject = request.state.subject
        try:
            found = await run_in_threadpool(
                lambda: assessment_of(
                    get_store(request), subject_id=subject.id, assessment_id=assessment_id
                )
            )
            await run_in_threadpool(lambda: mark_not_used(
                get_store(request), principal_of(request).username, code, assessment_id,
                reason=data["reason"], expected_version=found.version))  # fmt: skip
        except PustulaError as exc:
            errors = error_messages(exc, ["reason"])
    if errors:
        return _not_used_page(request, code, assessment_id, values, errors)
    return RedirectResponse(f"/subjects/{code}?saved=not_used", status_code=303)


def _diary_not_used_page(request: Request, code: str, entry_id: int, values: dict[str, Any],
                         errors: dict[str, str]) -> Response:  # fmt: skip
    day = next((d for d in scoped_timeline(request).diary if d.id == entry_id), None)
    if day is None:
        return render(request, "error.html", status_code=404,
                      message="This diary day does not exist.")  # fmt: skip
    return render(request, "diary_not_used.html", status_code=400 if errors else 200,
                  code=code, day=day, fields=DIARY_NOT_USED_FIELDS,
                  by_name={f.name: f for f in DIARY_NOT_USED_FIELDS}, values=values,
                  errors=errors)  # fmt: skip


@router.get("/subjects/{code}/diary/{entry_id}/not-used", name="diary_not_used_form",
            response_class=HTMLResponse)  # fmt: skip
def diary_not_used_form(request: Request, code: str, entry_id: int) -> Response:
    return _diary_not_used_page(request, code, entry_id, {}, {})


@router.post("/subjects/{code}/diary/{entry_id}/not-used", name="diary_not_used_save",
             response_class=HTMLResponse)  # fmt: skip
async def diary_not_used_save(request: Request, code: str, entry_id: int) -> Response:
    values = form_values(await request.form(), DIARY_NOT_USED_FIELDS)
    data, errors = parse_fields(DIARY_NOT_USED_FIELDS, values)
    day = next((d for d in scoped_timeline(request).diary if d.id == entry_id), None)
    if not errors and day is not None:
        try:
            await run_in_threadpool(lambda: mark_diary_day_not_used(
                get_store(request), principal_of(request).username, code, entry_id,
                reason=data["reason"], expected_version=day.version))  # fmt: skip
        except PustulaError as exc:
            errors = error_messages(exc, ["reason"])
    if errors or day is None:
        return _diary_not_used_page(request, code, entry_id, values, errors)
    return RedirectResponse(f"/subjects/{code}?saved=not_used#diary-title", status_code=303)


api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(authorize)],
                       tags=["patient entry"])  # fmt: skip


class InvitationIn(BaseModel):
    """How the patient answers: ``link`` (their own device) or ``kiosk`` (a site tablet)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["link", "kiosk"]
    language: Literal["en", "de"]
    hours: float | None = Field_(default=None, gt=0, le=168)


class InvitationOut(BaseModel):
    """The invitation just issued: the link is returned this once and never stored."""

    id: int
    link: str
    kind: str
    language: str
    expires_at: str
    instruments: list[str]


class NotUsedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str
    expected_version: int


@api_router.post("/subjects/{code}/visits/{visit_id}/invitations", name="api_invite",
                 status_code=201)  # fmt: skip
def api_invite(request: Request, code: str, visit_id: int, body: InvitationIn) -> InvitationOut:
    """Invite the subject to answer their own questionnaires at this visit."""
    issued = invite(get_store(request), principal_of(request).username, code, visit_id,
                    kind=body.kind, language=body.language, hours=body.hours)  # fmt: skip
    link = f"{str(request.base_url).rstrip('/')}/p/{issued.token}"
    return InvitationOut(id=issued.id, link=link, kind=issued.kind, language=issued.language,
                         expires_at=issued.expires_at,
                         instruments=list(issued.instruments))  # fmt: skip


@api_router.post("/subjects/{code}/assessments/{assessment_id}/not-used", name="api_not_used",
                 status_code=204)  # fmt: skip
def api_not_used(request: Request, code: str, assessment_id: int, body: NotUsedIn) -> Response:
    """Mark a patient's answers as not used in the analysis, with a reason."""
    mark_not_used(get_store(request), principal_of(request).username, code, assessment_id,
                  reason=body.reason, expected_version=body.expected_version)  # fmt: skip
    return Response(status_code=204)


class DiaryIn(BaseModel):
    """A diary link: its language, how many days it runs, and daily e-mail reminders (with
    the address they go to, kept apart from the study data)."""

    model_config = ConfigDict(extra="forbid")
    language: Literal["en", "de"]
    days: int = Field_(ge=1, le=84)
    reminders: bool = False
    email: str | None = Field_(default=None, max_length=254)


class DiaryDayOut(BaseModel):
    """One day of the patient's diary (0 to 10 each), as the patient answered it."""

    id: int
    version: int
    entry_date: date
    itch_nrs: int
    pain_nrs: int
    answered_at: str
    not_used_reason: str | None


@api_router.post("/subjects/{code}/diary", name="api_diary_invite", status_code=201)
def api_diary_invite(request: Request, code: str, body: DiaryIn) -> InvitationOut:
    """Give the subject a diary link (returned this once) from their latest visit on."""
    issued = invite_diary(get_store(request), principal_of(request).username, code,
                          language=body.language, days=body.days, reminders=body.reminders,
                          email=body.email)  # fmt: skip
    link = f"{str(request.base_url).rstrip('/')}/p/{issued.token}"
    return InvitationOut(id=issued.id, link=link, kind=issued.kind, language=issued.language,
                         expires_at=issued.expires_at,
                         instruments=list(issued.instruments))  # fmt: skip


@api_router.get("/subjects/{code}/diary", name="api_diary")
def api_diary(request: Request, code: str) -> list[DiaryDayOut]:
    """The subject's diary, day by day."""
    return [DiaryDayOut(**{k: getattr(d, k) for k in DiaryDayOut.model_fields})
            for d in scoped_timeline(request).diary]  # fmt: skip


@api_router.post("/subjects/{code}/diary/{entry_id}/not-used", name="api_diary_not_used",
                 status_code=204)  # fmt: skip
def api_diary_not_used(request: Request, code: str, entry_id: int, body: NotUsedIn) -> Response:
    """Mark one day of the patient's diary as not used in the analysis, with a reason."""
    mark_diary_day_not_used(get_store(request), principal_of(request).username, code, entry_id,
                            reason=body.reason, expected_version=body.expected_version)  # fmt: skip
    return Response(status_code=204)
