"""The study report in the app: the page, its PDF and Word downloads, and the analysis options.

The options form shows each option the protocol's analysis plan fixes and its value there;
choosing another value makes the report a sensitivity analysis, which the report itself then
says (:func:`pustula.analysis.options.departures`). The downloads carry the same options.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from pustula.analysis.options import OPTIONS, Option, departures, fixed_by_plan, settings_with
from pustula.analysis.settings import AnalysisSettings
from pustula.errors import AnalysisError, PustulaError
from pustula.protocol import Protocol
from pustula.store.services.clinical import study_protocol
from pustula.web.deps import authorize, get_store, principal_of
from pustula.web.render import ENV
from pustula.web.throughput import long_read
from pustula.web.views import Choices, report_docx_for, report_html_for, report_pdf_for

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

_WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _choice_list(option: Option, plan: Any) -> list[tuple[str, str]]:
    """The option's choices, with the plan's own value among them even when it is unusual."""
    listed = option.tokens()
    if all(value != plan for value, _ in option.choices):
        listed.insert(0, (option.token(plan), option.words(plan)))
    return listed


def _read_choices(request: Request, protocol: Protocol) -> tuple[Choices, dict[str, str]]:
    """The options asked for that differ from the plan, and an error per option refused."""
    plan = AnalysisSettings.from_protocol(protocol)
    chosen: list[tuple[str, Any]] = []
    errors: dict[str, str] = {}
    for option in OPTIONS:
        raw = request.query_params.get(option.name)
        if raw is None or raw == "":
            continue
        planned = getattr(plan, option.name)
        value = planned if raw == option.token(planned) else option.choice(raw)
        if value is Option.UNKNOWN:
            errors[option.name] = f"{option.label}: choose one of the listed options."
        elif value != planned:
            chosen.append((option.name, value))
    if not errors:
        try:
            settings_with(protocol, dict(chosen))
        except PustulaError as exc:
            errors["settings"] = str(exc)
    return tuple(chosen), errors


def _query(choices: Choices) -> str:
    options = {o.name: o for o in OPTIONS}
    return f"?{urlencode({k: options[k].token(v) for k, v in choices})}" if choices else ""


def _panel(protocol: Protocol, choices: Choices, errors: dict[str, str]) -> str:
    settings = settings_with(protocol, dict(choices))
    plan = AnalysisSettings.from_protocol(protocol)
    options = [
        {"option": o, "choices": _choice_list(o, getattr(plan, o.name)),
         "current": o.token(getattr(settings, o.name)), "plan": o.words(getattr(plan, o.name)),
         "plan_value": getattr(plan, o.name)}
        for o in OPTIONS
    ]  # fmt: skip
    return ENV.get_template("_report_panel.html").render(
        options=options, fixed=fixed_by_plan(protocol), errors=errors,
        departed=departures(settings, protocol), query=_query(choices),
    )  # fmt: skip


@router.get("/report", name="report_page", response_class=HTMLResponse)
@long_read
def report_page(request: Request) -> Response:
    store = get_store(request)
    protocol = study_protocol(store)
    choices, errors = _read_choices(request, protocol)
    if errors:  # the plan's report, with what was refused said at its option
        choices = ()
    panel = _panel(protocol, choices, errors)
    html = report_html_for(store, principal_of(request), choices, panel=panel)
    return HTMLResponse(html, status_code=400 if errors else 200)


def _report_file(code: str, content: bytes, suffix: str, media_type: str) -> Response:
    disposition = f'attachment; filename="{code}-report.{suffix}"'
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": disposition})  # fmt: skip


def _download_choices(request: Request) -> Choices:
    choices, errors = _read_choices(request, study_protocol(get_store(request)))
    if errors:
        raise AnalysisError(" ".join(errors.values()))
    return choices


@router.get("/report.docx", name="report_docx")
@long_read
def report_docx(request: Request) -> Response:
    choices = _download_choices(request)
    code, docx = report_docx_for(get_store(request), principal_of(request), choices)
    return _report_file(code, docx, "docx", _WORD)


@router.get("/report.pdf", name="report_pdf")
@long_read
def report_pdf(request: Request) -> Response:
    choices = _download_choices(request)
    code, pdf = report_pdf_for(get_store(request), principal_of(request), choices)
    return _report_file(code, pdf, "pdf", "application/pdf")
