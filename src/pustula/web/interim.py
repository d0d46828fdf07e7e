"""Interim monitoring pages: the design's interim look from the data so far (Simon's
stage 1, a Bayesian predictive probability) with the decision recorded after password
re-entry, and the data monitoring committee's reports, open (arms pooled) for every role
that reads reports and closed (by arm) for the roles that see arms.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pustula.analysis import build_analysis
from pustula.errors import AnalysisError, PustulaError
from pustula.report.dmc import dmc_report, render_dmc_html, render_dmc_pdf
from pustula.report.interim import bayesian_look, simon_look
from pustula.store.services import trial
from pustula.store.transfer.extract import StudyData, read_study, restrict
from pustula.web.deps import authorize, get_store, principal_of
from pustula.web.fields import Field as FormField
from pustula.web.fields import error_messages, form_values
from pustula.web.render import render
from pustula.web.throughput import long_read
from pustula.web.views import study_for

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

_FIELDS = (
    FormField("comment", "Comment", "textarea",
              hint="For example the meeting at which the decision was taken."),
    FormField("password", "Your password", "password", required=True,
              hint="Re-entered to confirm that it is you who records the decision."),
)  # fmt: skip


def _look(request: Request) -> dict[str, Any] | None:
    """The design's look from the data the user may see, or None if it plans none."""
    data = study_for(get_store(request), principal_of(request))
    design = data.protocol.design
    if design is None or design.method not in ("simon_two_stage", "bayesian_predictive"):
        return None
    try:
        if design.method == "simon_two_stage":
            s = simon_look(build_analysis(data))
            return {
                "look": "Simon stage 1",
                "decision": s.decision,
                "reason": s.reason,
                "evaluable": s.evaluable,
                "responders": s.responders,
                "statistic": None,
            }
        b = bayesian_look(build_analysis(data))
        return {
            "look": "Predictive probability of success",
            "decision": b.decision,
            "reason": b.reason,
            "evaluable": b.n,
            "responders": b.x,
            "statistic": b.predictive_probability,
        }
    except AnalysisError as error:
        return {"look": "Interim look", "decision": "not yet", "reason": error.message,
                "evaluable": 0, "responders": 0, "statistic": None}  # fmt: skip


def _page(request: Request, values: dict[str, Any], errors: dict[str, str]) -> Response:
    kept = {k: v for k, v in values.items() if k != "password"}
    return render(request, "interim.html", status_code=400 if errors else 200,
                  look=_look(request), decisions=trial.interim_log(get_store(request)),
                  closed=principal_of(request).can("unblinded"), fields=_FIELDS,
                  by_name={f.name: f for f in _FIELDS}, values=kept, errors=errors)  # fmt: skip


@router.get("/interim", name="interim_page", response_class=HTMLResponse)
@long_read
def interim_page(request: Request) -> Response:
    return _page(request, {}, {})


@router.post("/interim", name="interim_record", response_class=HTMLResponse)
async def interim_record(request: Request) -> Response:
    values = form_values(await request.form())
    look = await run_in_threadpool(lambda: _look(request))
    if look is None:
        return _page(request, values, {"comment": "this study's design plans no interim look"})
    principal = principal_of(request)
    try:
        await run_in_threadpool(lambda: trial.record_interim(
            get_store(request), principal.username, password=str(values.get("password", "")),
            look=look, comment=str(values.get("comment", ""))))  # fmt: skip
    except PustulaError as exc:
        errors = error_messages(exc, ["comment", "password"])
        if exc.code == "signature_refused":
            errors = {"password": exc.message}
        elif getattr(exc, "field", None) == "decision":
            errors = {"comment": exc.message}
        return _page(request, values, errors)
    return RedirectResponse("/interim?saved=recorded", status_code=303)


def _dmc_response(data: StudyData, request: Request, *, closed: bool) -> Response:
    report = dmc_report(build_analysis(data), closed=closed)
    headers = {"Cache-Control": "no-store"} if closed else {}
    if request.query_params.get("format") == "pdf":
        name = f"{data.code}-dmc-{'closed' if closed else 'open'}.pdf"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return Response(render_dmc_pdf(report), media_type="application/pdf", headers=headers)
    return HTMLResponse(render_dmc_html(report, in_app=True), headers=headers)


@router.get("/dmc-report", name="dmc_open")
@long_read
def dmc_open(request: Request) -> Response:
    """The open DMC report: arms pooled, from the blinded read, for every report reader."""
    principal = principal_of(request)
    data = read_study(get_store(request))  # always blinded: the open report pools the arms
    if "*" not in principal.sites:
        visible = data.subjects.loc[data.subjects["site"].isin(principal.sites), "subject"]
        data = restrict(data, set(visible))
    return _dmc_response(data, request, closed=False)


@router.get("/dmc-report/closed", name="dmc_closed")
@long_read
def dmc_closed(request: Request) -> Response:
    """The closed DMC report, by arm: for the DMC and the unblinded statistician."""
    return _dmc_response(study_for(get_store(request), principal_of(request)), request,
                         closed=True)  # fmt: skip
