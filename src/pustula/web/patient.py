"""The patient's own pages: questionnaires for one visit, opened with a one-time link.

No account and no session: the token in the link is the only credential, and it opens
only the visit it was issued for. The page shows no name and no subject code. Every
request is rate-limited per client (:class:`PatientThrottle`); an unusable link says the
same to everyone ("ask the study team for a new one"), whatever the reason, so a guess
learns nothing. The patient's language is the invitation's; English is the source text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from pustula.errors import DataValidationError, InvitationError, ScoringInputError
from pustula.scoring.dlqi import ITEMS as DLQI_ITEMS
from pustula.store.accounts.sessions import PatientThrottle
from pustula.store.records.patient import LANGUAGES
from pustula.store.services.patient import PatientVisit, open_patient_visit, submit_answers
from pustula.web.deps import get_store
from pustula.web.i18n import patient_env, translations
from pustula.web.security import same_origin

__all__ = ["DLQI_PROMPTS", "HidePatientLinks", "loggable_path", "router"]

router = APIRouter(include_in_schema=False)
THROTTLE = PatientThrottle()


def loggable_path(path: str) -> str:
    """A request path as logs may keep it: a patient's link without its token.

    >>> loggable_path("/p/Zm9vYmFy"), loggable_path("/subjects/S01")
    ('/p/[patient link]', '/subjects/S01')
    """
    return "/p/[patient link]" if path.startswith("/p/") else path


class HidePatientLinks(logging.Filter):
    """Keeps the tokens of patients' links out of the server's access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], loggable_path(args[2]), *args[3:])
        return True


logging.getLogger("uvicorn.access").addFilter(HidePatientLinks())


def N_(text: str) -> str:  # noqa: N802 (gettext's name for "mark for translation only")
    return text


#: The DLQI's short item names as a patient reads them (the licensed wording, when a site
#: loads it, replaces them in English).
DLQI_PROMPTS: dict[str, str] = dict(zip(DLQI_ITEMS, (
    N_("Itchy, sore, painful or stinging skin"),
    N_("Embarrassed or self-conscious because of your skin"),
    N_("Your skin and shopping, looking after your home or garden"),
    N_("Your skin and the clothes you wear"),
    N_("Your skin and social or leisure activities"),
    N_("Your skin and doing sport"),
    N_("Your skin and working or studying"),
    N_("Your skin and your partner, close friends or relatives"),
    N_("Your skin and sexual difficulties"),
    N_("Problems from treating your skin"),
), strict=True))  # fmt: skip

_ANSWERS = ((("3", N_("Very much")), ("2", N_("A lot")), ("1", N_("A little")),
             ("0", N_("Not at all"))))  # fmt: skip
_NOT_RELEVANT = ("not_relevant", N_("Not relevant"))
_ITEM7 = (("yes", N_("Yes: it prevented me from working or studying")),
          ("2", N_("No, but it was a problem: a lot")),
          ("1", N_("No, but it was a problem: a little")),
          ("0", N_("No, not at all")))  # fmt: skip


def dlqi_questions(wording: Mapping[str, str], language: str) -> list[dict[str, Any]]:
    """Each DLQI item with its prompt and its answers, as the patient's page asks it."""
    questions = []
    for number, name in enumerate(DLQI_ITEMS, start=1):
        if name == "dlqi_q7":
            options: tuple[tuple[str, str], ...] = _ITEM7
        else:
            options = (*_ANSWERS, _NOT_RELEVANT) if number >= 3 else _ANSWERS
        full = wording.get(name) if language == "en" else None
        questions.append({"name": name, "number": number, "prompt": full or DLQI_PROMPTS[name],
                          "licensed": full is not None, "options": options})  # fmt: skip
    return questions


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _accepted_language(request: Request) -> str:
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def _page(template: str, language: str, status: int = 200, **context: Any) -> HTMLResponse:
    gettext: Callable[[str], str] = translations(language).gettext
    html = (
        patient_env(language)
        .get_template(template)
        .render(language=language, tr=gettext, **context)
    )
    return HTMLResponse(html, status_code=status, headers={
        "Cache-Control": "no-store"})  # fmt: skip


def _gone(request: Request, language: str | None = None) -> HTMLResponse:
    return _page("gone.html", language or _accepted_language(request), 410)


async def _throttled(request: Request) -> HTMLResponse | None:
    wait = await run_in_threadpool(THROTTLE.wait, get_store(request), _client(request))
    if wait:
        page = _page("busy.html", _accepted_language(request), 429, minutes=int(wait // 60) + 1)
        page.headers["Retry-After"] = str(int(wait) + 1)
        return page
    return None


async def _visit(request: Request, token: str) -> PatientVisit | HTMLResponse:
    try:
        return await run_in_threadpool(open_patient_visit, get_store(request), token)
    except InvitationError:
        await run_in_threadpool(THROTTLE.failed, get_store(request), _client(request))
        return _gone(request)


def _form(request: Request, visit: PatientVisit, values: Mapping[str, str],
          errors: Mapping[str, str], status: int = 200) -> HTMLResponse:  # fmt: skip
    return _page(
        "form.html", visit.language, status, visit=visit, values=values, errors=errors,
        dlqi=dlqi_questions(request.app.state.dlqi_wording, visit.language),
        synthetic=request.app.state.synthetic, day=_day(visit),
    )  # fmt: skip


def _day(visit: PatientVisit) -> str:
    """The diary's day in the patient's language ("5 December 2026", "5. Dezember 2026")."""
    if visit.diary_day is None:
        return ""
    return format_date(visit.diary_day, format="long", locale=visit.language)


def _done(visit: PatientVisit, *, already: bool = False) -> HTMLResponse:
    return _page("done.html", visit.language, kiosk=visit.kind == "kiosk",
                 diary=visit.diary and visit.kind == "diary", already=already)  # fmt: skip


@router.get("/p/{token}", name="patient_form", response_class=HTMLResponse)
async def patient_form(request: Request, token: str) -> Response:
    if (busy := await _throttled(request)) is not None:
        return busy
    visit = await _visit(request, token)
    if isinstance(visit, HTMLResponse):
        return visit
    if visit.diary and not visit.instruments:
        return _done(visit, already=True)
    return _form(request, visit, {}, {})


def read_answers(
    form: Mapping[str, str], instruments: tuple[str, ...]
) -> tuple[dict[str, dict[str, object]], dict[str, str]]:
    """(answers by instrument, English error by field): every question must be answered.

    >>> read_answers({"itch_nrs": "7"}, ("itch_nrs", "pain_nrs"))
    ({'itch_nrs': {'itch_nrs': 7}}, {'pain_nrs': 'Please choose a number from 0 to 10.'})
    """
    answers: dict[str, dict[str, object]] = {}
    errors: dict[str, str] = {}
    for nrs in ("itch_nrs", "pain_nrs"):
        if nrs not in instruments:
            continue
        raw = form.get(nrs, "")
        if raw.isdigit() and 0 <= int(raw) <= 10:
            answers[nrs] = {nrs: int(raw)}
        else:
            errors[nrs] = N_("Please choose a number from 0 to 10.")
    if "dlqi" in instruments:
        items: dict[str, object] = {}
        for question in dlqi_questions({}, "en"):
            raw = form.get(question["name"], "")
            if raw not in {value for value, _ in question["options"]}:
                errors[question["name"]] = N_("Please choose one answer.")
            else:
                items[question["name"]] = int(raw) if raw.isdigit() else raw
        if not any(name.startswith("dlqi") for name in errors):
            answers["dlqi"] = items
    return answers, errors


@router.post("/p/{token}", name="patient_save", response_class=HTMLResponse)
async def patient_save(request: Request, token: str) -> Response:
    if (busy := await _throttled(request)) is not None:
        return busy
    if not same_origin(request):
        return _gone(request)
    visit = await _visit(request, token)
    if isinstance(visit, HTMLResponse):
        return visit
    if visit.diary and not visit.instruments:
        return _done(visit, already=True)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    answers, errors = read_answers(form, visit.instruments)
    if errors:
        return _form(request, visit, form, errors, 400)
    device = request.headers.get("user-agent", "")[:200]
    try:
        await run_in_threadpool(
            lambda: submit_answers(get_store(request), token, answers, device=device)
        )
    except InvitationError:
        return _gone(request, visit.language)
    except (ScoringInputError, DataValidationError):  # the form's own choices: a forged post
        return _form(request, visit, form, {"_form": N_("Please check your answers.")}, 400)
    return _done(visit)
