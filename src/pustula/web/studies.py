"""Studies on one server: the switcher, a new study from its protocol file, and who holds
which role in the open study (decision 0019)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from pustula.checks.vocabulary import label
from pustula.errors import PustulaError
from pustula.store.accounts.studies import STUDY_ROLES
from pustula.store.services import studies
from pustula.web.deps import authorize, get_store, principal_of
from pustula.web.fields import Field, error_messages, form_values, parse_fields
from pustula.web.render import render

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

#: The largest protocol file taken (a protocol is a few kilobytes).
MAX_PROTOCOL_UPLOAD = 512_000


@router.get("/studies", name="study_list", response_class=HTMLResponse)
def study_list(request: Request) -> Response:
    principal = principal_of(request)
    mine = studies.my_studies(get_store(request), principal.id)
    current = request.session.get("study")
    return render(request, "studies.html", studies=mine, current=current,
                  may_create=principal.server_admin)  # fmt: skip


@router.post("/studies/{study}/open", name="study_open")
def study_open(request: Request, study: str) -> Response:
    mine = studies.my_studies(get_store(request), principal_of(request).id)
    if study not in {s.code for s in mine}:
        raise HTTPException(status_code=404, detail=f"No study {study}.")
    request.session["study"] = study
    return RedirectResponse("/", status_code=303)


async def protocol_upload_text(form: Any) -> tuple[str | None, str | None]:
    """The text of the protocol file a form sent as ``protocol``, or what is wrong with it."""
    upload = form.get("protocol")
    if not (isinstance(upload, UploadFile) and upload.filename):
        return None, "choose the protocol file (YAML or JSON)"
    content = await upload.read(MAX_PROTOCOL_UPLOAD + 1)
    if len(content) > MAX_PROTOCOL_UPLOAD:
        return None, "this file is larger than a protocol can be (512 kB)"
    try:
        return content.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, "this file is not text (a protocol is a YAML or JSON file)"


def _new_page(request: Request, sites_text: str, draft: studies.StudyDraft | None,
              errors: dict[str, str], status: int = 200) -> Response:  # fmt: skip
    return render(request, "study_new.html", status_code=status, sites_text=sites_text,
                  draft=draft, errors=errors)  # fmt: skip


@router.get("/studies/new", name="study_new_form", response_class=HTMLResponse)
def study_new_form(request: Request) -> Response:
    return _new_page(request, "", None, {})


@router.post("/studies/new", name="study_new_save", response_class=HTMLResponse)
async def study_new_save(request: Request) -> Response:
    form = await request.form()
    try:
        sites_text = str(form.get("sites", ""))[:20_000]
        text, problem = await protocol_upload_text(form)
    finally:
        await form.close()
    errors: dict[str, str] = {"protocol": problem} if problem else {}
    store = get_store(request)
    draft = None
    if text is not None:
        draft = await run_in_threadpool(studies.check_new_study, store, text, sites_text)
        if draft.problems:
            count = len(draft.problems)
            errors["protocol"] = (
                "the protocol file has a problem, listed below"
                if count == 1 else f"the protocol file has {count} problems, listed below"
            )  # fmt: skip
        if draft.site_errors:
            errors["sites"] = "; ".join(draft.site_errors)
    elif site_errors := studies.parse_sites(sites_text)[1]:
        errors["sites"] = "; ".join(site_errors)
    if errors or text is None:
        return _new_page(request, sites_text, draft, errors, 400)
    user = principal_of(request).username
    code = await run_in_threadpool(
        lambda: studies.create_study(store, user=user, protocol_text=text, sites_text=sites_text)
    )
    request.session["study"] = code
    return RedirectResponse("/study/people?created=1", status_code=303)


ROLE_FIELDS = (
    Field("username", "User name", required=True,
          hint="The account, as created by the server's administrator."),
    Field("role", "Role in this study", "radio",
          tuple((r, label("role", r)) for r in STUDY_ROLES), required=True),
    Field("reason", "Why", "textarea", required=True,
          hint="For example: joins as monitor for site B. It goes into the audit trail."),
)  # fmt: skip


def _people_page(request: Request, values: dict[str, Any], errors: dict[str, str],
                 status: int = 200) -> Response:  # fmt: skip
    store = get_store(request)
    sites = studies.study_sites(store)
    return render(request, "study_people.html", status_code=status,
                  members=studies.members_of(store), sites=sites, fields=ROLE_FIELDS,
                  values=values, errors=errors, roles=STUDY_ROLES)  # fmt: skip


@router.get("/study/people", name="study_people", response_class=HTMLResponse)
def study_people(request: Request) -> Response:
    return _people_page(request, {}, {})


@router.post("/study/people", name="study_grant", response_class=HTMLResponse)
async def study_grant(request: Request) -> Response:
    form = await request.form()
    values = form_values(form, ROLE_FIELDS)
    chosen = [str(s) for s in form.getlist("sites")]
    values["sites"] = chosen
    data, errors = parse_fields(ROLE_FIELDS, values)
    if data.get("role") and data["role"] not in STUDY_ROLES:
        errors["role"] = "choose one of the roles"
    if not chosen:
        errors["sites"] = "choose the sites whose subjects this person sees, or every site"
    if not errors:
        try:
            await run_in_threadpool(lambda: studies.give_role(
                get_store(request), user=principal_of(request).username,
                username=data["username"], role=data["role"],
                sites=["*"] if "*" in chosen else chosen, reason=data["reason"]))  # fmt: skip
        except PustulaError as exc:
            errors = error_messages(exc, [f.name for f in ROLE_FIELDS] + ["sites"])
    if errors:
        return _people_page(request, values, errors, 400)
    return RedirectResponse("/study/people?saved=1", status_code=303)


@router.post("/study/people/{username}/remove", name="study_revoke")
async def study_revoke(request: Request, username: str) -> Response:
    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    if not reason:
        return _people_page(request, {}, {"_form": f"Say why {username} leaves the study."}, 400)
    await run_in_threadpool(lambda: studies.take_role(
        get_store(request), user=principal_of(request).username, username=username,
        reason=reason))  # fmt: skip
    return RedirectResponse("/study/people?saved=removed", status_code=303)
