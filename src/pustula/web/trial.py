"""A randomized trial's pages and API: randomize a subject, unblind one in an emergency,
the unblinded statistician's allocation list, and the monitor's list of unblindings.

Blinding is kept here by construction: a page or response built for a blinded role is
made from :class:`~pustula.store.records.randomization.Randomized` (kit and date), and
only routes that need the ``unblinded``, ``allocation`` or ``unblind`` permission read an
arm. Responses that show an arm are never cached.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pustula.checks.spreadsheet import inert
from pustula.errors import PustulaError
from pustula.protocol.populations import DEVIATION_CATEGORIES
from pustula.store.records.randomization import Randomized
from pustula.store.services import trial
from pustula.store.services.clinical import study_protocol
from pustula.web.deps import authorize, get_store, principal_of
from pustula.web.fields import Field as FormField
from pustula.web.fields import error_messages, form_values, parse_fields
from pustula.web.render import render

__all__ = ["api_router", "router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(authorize)], tags=["randomization"])

#: What a response showing an arm carries: no copy kept by the browser or a proxy.
UNCACHED = {"Cache-Control": "no-store"}


def _user(request: Request) -> str:
    return principal_of(request).username


def _randomize_fields(form: trial.RandomizationForm) -> tuple[FormField, ...]:
    factors = tuple(
        FormField(f.name, f.label[0].upper() + f.label[1:], "radio",
                  tuple((level, level) for level in f.levels), required=True,
                  hint=f"The casebook records: {f.recorded}." if f.recorded
                  else "Not recorded in the casebook yet.")
        for f in form.factors
    )  # fmt: skip
    return (*factors, FormField("randomized_on", "Date of randomization", "date", required=True))


def _randomize_page(
    request: Request, code: str, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    form = trial.randomization_form(get_store(request), code)
    fields = _randomize_fields(form)
    return render(request, "randomize.html", status_code=400 if errors else 200, code=code,
                  form=form, fields=fields, by_name={f.name: f for f in fields},
                  values=values, errors=errors)  # fmt: skip


@router.get("/subjects/{code}/randomize", name="randomize_form", response_class=HTMLResponse)
def randomize_form(request: Request, code: str) -> Response:
    return _randomize_page(request, code, {}, {})


@router.post("/subjects/{code}/randomize", name="randomize_save", response_class=HTMLResponse)
async def randomize_save(request: Request, code: str) -> Response:
    values = form_values(await request.form())
    form = await run_in_threadpool(trial.randomization_form, get_store(request), code)
    fields = _randomize_fields(form)
    data, errors = parse_fields(fields, values)
    if not errors:
        confirmed = {f.name: data[f.name] for f in form.factors}
        try:
            on = data["randomized_on"]
            await run_in_threadpool(
                lambda: trial.randomize_subject(get_store(request), _user(request), code,
                                                confirmed=confirmed, on=on))  # fmt: skip
            return RedirectResponse(f"/subjects/{code}?saved=randomized", status_code=303)
        except PustulaError as exc:
            errors = error_messages(exc, [f.name for f in fields])
    return _randomize_page(request, code, values, errors)


_UNBLIND_FIELDS = (
    FormField("reason", "Why this subject's treatment must be known now", "textarea",
              required=True, hint="For example the adverse event whose care depends on it. "
              "The reason, your name and the time are recorded and listed for the monitor."),
    FormField("password", "Your password", "password", required=True,
              hint="Re-entered to confirm that it is you."),
)  # fmt: skip


def _unblind_page(
    request: Request, code: str, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    done = trial.randomization_of(get_store(request), code)
    kept = {k: v for k, v in values.items() if k != "password"}
    return render(request, "unblind.html", status_code=400 if errors else 200, code=code,
                  done=done, fields=_UNBLIND_FIELDS, by_name={f.name: f for f in _UNBLIND_FIELDS},
                  values=kept, errors=errors)  # fmt: skip


@router.get("/subjects/{code}/unblind", name="unblind_form", response_class=HTMLResponse)
def unblind_form(request: Request, code: str) -> Response:
    return _unblind_page(request, code, {}, {})


@router.post("/subjects/{code}/unblind", name="unblind_save", response_class=HTMLResponse)
async def unblind_save(request: Request, code: str) -> Response:
    values = form_values(await request.form())
    reason, password = str(values.get("reason", "")), str(values.get("password", ""))
    try:
        arm = await run_in_threadpool(
            lambda: trial.emergency_unblind(get_store(request), _user(request), password=password,
                                            code=code, reason=reason))  # fmt: skip
    except PustulaError as exc:
        errors = error_messages(exc, ["reason", "password"])
        if exc.code == "signature_refused":
            errors = {"password": exc.message}
        return _unblind_page(request, code, values, errors)
    response = render(request, "unblinded.html", code=code, arm=arm, reason=reason.strip())
    response.headers.update(UNCACHED)
    return response


def _allocation_page(request: Request, values: dict[str, Any], errors: dict[str, str]) -> Response:
    store = get_store(request)
    summary = trial.allocation_summary(store)
    slots = trial.allocation_list_with_arms(store) if summary else []
    arms = {a.code: a.label for a in study_protocol(store).arms}
    response = render(request, "allocation.html", status_code=400 if errors else 200,
                      summary=summary, slots=slots, arms=arms, values=values, errors=errors,
                      problems=trial.verify_allocation(store) if summary else [])  # fmt: skip
    response.headers.update(UNCACHED)
    return response


@router.get("/randomization", name="allocation_page", response_class=HTMLResponse)
def allocation_page(request: Request) -> Response:
    return _allocation_page(request, {}, {})


@router.post("/randomization", name="allocation_generate", response_class=HTMLResponse)
async def allocation_generate(request: Request) -> Response:
    values = form_values(await request.form())
    seed = str(values.get("seed", "")).strip().lower() or None
    try:
        await run_in_threadpool(
            lambda: trial.generate_allocation(get_store(request), _user(request), seed=seed)
        )
    except PustulaError as exc:
        return _allocation_page(request, values, error_messages(exc, ["seed"]))
    return RedirectResponse("/randomization?saved=generated", status_code=303)


@router.get("/randomization/list.csv", name="allocation_csv")
def allocation_csv(request: Request) -> Response:
    rows = trial.allocation_list_with_arms(get_store(request))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["stratum", "position", "block", "block_size", "arm", "kit", "subject",
                     "randomized_on"])  # fmt: skip
    for r in rows:
        writer.writerow([inert(str(r[k] if r[k] is not None else "")) for k in (
            "stratum", "position", "block", "block_size", "arm", "kit", "subject",
            "randomized_on")])  # fmt: skip
    attachment = 'attachment; filename="allocation-list.csv"'
    return Response(out.getvalue(), media_type="text/csv",
                    headers={**UNCACHED, "Content-Disposition": attachment})  # fmt: skip


@router.get("/unblindings", name="unblinding_log", response_class=HTMLResponse)
def unblinding_log(request: Request) -> Response:
    return render(request, "unblindings.html", rows=trial.unblinding_log(get_store(request)))


_DEVIATION_FIELDS = (
    FormField("category", "Kind of deviation", "select", required=True,
              options=tuple(DEVIATION_CATEGORIES.items())),
    FormField("occurred_on", "Date of the deviation", "date", required=True),
    FormField("description", "What happened", "textarea", required=True,
              hint="The protocol's per-protocol analysis reads the kind; the monitor reads "
              "this."),
)  # fmt: skip


def _deviation_page(
    request: Request, code: str, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    rows = trial.subject_deviations(get_store(request), code)
    return render(request, "deviations.html", status_code=400 if errors else 200, code=code,
                  rows=rows, fields=_DEVIATION_FIELDS, values=values, errors=errors,
                  by_name={f.name: f for f in _DEVIATION_FIELDS})  # fmt: skip


@router.get("/subjects/{code}/deviations", name="deviation_form", response_class=HTMLResponse)
def deviation_form(request: Request, code: str) -> Response:
    return _deviation_page(request, code, {}, {})


@router.post("/subjects/{code}/deviations", name="deviation_save", response_class=HTMLResponse)
async def deviation_save(request: Request, code: str) -> Response:
    values = form_values(await request.form())
    data, errors = parse_fields(_DEVIATION_FIELDS, values)
    if not errors:
        try:
            await run_in_threadpool(lambda: trial.record_subject_deviation(
                get_store(request), _user(request), code, category=data["category"],
                description=data["description"], on=data["occurred_on"]))  # fmt: skip
            return RedirectResponse(f"/subjects/{code}/deviations?saved=1", status_code=303)
        except PustulaError as exc:
            errors = error_messages(exc, [f.name for f in _DEVIATION_FIELDS])
    return _deviation_page(request, code, values, errors)


# --- API ---------------------------------------------------------------------------------


class RandomizationIn(BaseModel):
    """The strata as the coordinator confirms them (factor: level) and the date."""

    strata: dict[str, str]
    randomized_on: date | None = None


class DeviationIn(BaseModel):
    """A protocol deviation: its kind (one of the listed kinds), date and description."""

    category: str
    occurred_on: date
    description: str


class UnblindingIn(BaseModel):
    password: str = Field(min_length=1)
    reason: str = Field(min_length=1)


def _randomized_json(done: Randomized, arm: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"subject": done.subject, "kit": done.kit,
                            "randomized_on": done.randomized_on.isoformat(),
                            "stratum": done.stratum, "unblinded_at": done.unblinded_at}  # fmt: skip
    if arm is not None:
        body["arm"] = arm
    return body


@api_router.get("/subjects/{code}/randomization", name="api_randomization")
def api_randomization(request: Request, code: str) -> Response:
    """A subject's randomization: the kit number and date; the arm for unblinded roles."""
    store = get_store(request)
    done = trial.randomization_of(store, code)
    if done is None:
        return JSONResponse({"subject": code, "randomized": False})
    unblinded = principal_of(request).can("unblinded")
    arm = trial.subject_arm(store, code) if unblinded else None
    return JSONResponse({"randomized": True, **_randomized_json(done, arm)},
                        headers=UNCACHED if unblinded else None)  # fmt: skip


@api_router.post("/subjects/{code}/randomization", name="api_randomize", status_code=201)
def api_randomize(request: Request, code: str, body: RandomizationIn) -> Response:
    """Randomize an enrolled subject with the confirmed strata (kit and date back, no arm)."""
    done = trial.randomize_subject(get_store(request), _user(request), code,
                                   confirmed=body.strata, on=body.randomized_on)  # fmt: skip
    return JSONResponse(_randomized_json(done), status_code=201)


@api_router.post("/subjects/{code}/unblinding", name="api_unblind")
def api_unblind(request: Request, code: str, body: UnblindingIn) -> Response:
    """Emergency unblinding of one subject: password and reason; the arm's label back."""
    arm = trial.emergency_unblind(get_store(request), _user(request), password=body.password,
                                  code=code, reason=body.reason)  # fmt: skip
    return JSONResponse({"subject": code, "treatment": arm}, headers=UNCACHED)


@api_router.get("/subjects/{code}/deviations", name="api_deviations")
def api_deviations(request: Request, code: str) -> Response:
    """The subject's protocol deviations, oldest first."""
    rows = trial.subject_deviations(get_store(request), code)
    return JSONResponse([{**r, "occurred_on": r["occurred_on"].isoformat()} for r in rows])


@api_router.post("/subjects/{code}/deviations", name="api_deviation", status_code=201)
def api_deviation(request: Request, code: str, body: DeviationIn) -> Response:
    """Record a protocol deviation; the subject's deviations back."""
    rows = trial.record_subject_deviation(get_store(request), _user(request), code,
                                          category=body.category, description=body.description,
                                          on=body.occurred_on)  # fmt: skip
    return JSONResponse([{**r, "occurred_on": r["occurred_on"].isoformat()} for r in rows],
                        status_code=201)  # fmt: skip


@api_router.get("/allocation", name="api_allocation")
def api_allocation(request: Request) -> Response:
    """The allocation list with arms (the unblinded statistician's)."""
    rows = trial.allocation_list_with_arms(get_store(request))
    body = [{**r, "randomized_on": r["randomized_on"].isoformat() if r["randomized_on"] else None}
            for r in rows]  # fmt: skip
    return JSONResponse(body, headers=UNCACHED)


@api_router.get("/unblindings", name="api_unblindings")
def api_unblindings(request: Request) -> Response:
    """Every emergency unblinding: who, when, why (never the arm)."""
    return JSONResponse(trial.unblinding_log(get_store(request)))
