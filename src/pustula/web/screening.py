"""Screening and enrolment pages: the form, its live eligibility checklist, re-screening.

Every choice with clinical meaning starts empty; coded lists are checkboxes with labels.
Missing screening results leave the subject *pending*, never a screen failure.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pustula.errors import PustulaError
from pustula.protocol import Protocol, evaluate_eligibility
from pustula.protocol.status import SCREENING_STATES
from pustula.store.records.enrolment import eligibility_data
from pustula.store.records.schemas import BaselineIn, PriorTherapyIn, parse_input
from pustula.store.services.changes import rescreen
from pustula.store.services.clinical import enrol, study_page
from pustula.web.deps import authorize, get_store, principal_of, scoped_protocol, scoped_timeline
from pustula.web.fields import Field, FormValues, choices, error_messages, form_values, parse_fields
from pustula.web.render import render

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

PRIOR_ROWS = 6
SCREEN_TESTS = ("tuberculosis", "hepatitis")
LAB_FIELDS = (
    Field("lab_lymphocytes", "Lymphocytes (/mm³)", "number"),
    Field("lab_neutrophils", "Neutrophils, ANC (/mm³)", "number"),
    Field("lab_haemoglobin", "Haemoglobin (g/dL)", "number"),
)
SUBJECT_FIELDS = (
    Field("code", "Study code", required=True, hint="Letters, digits, - or _. Never a name or "
          "initials."),
    Field("site", "Site", "select", required=True),
    Field("screened_on", "Screening date", "date", required=True),
)  # fmt: skip
BASELINE_FIELDS = (
    Field("age", "Age (years)", "whole", required=True),
    Field("sex", "Sex", "radio", choices("sex"), required=True),
    Field("disease_duration_months", "PPP duration (months)", "number", required=True),
    Field("eraspen_ppp", "PPP by ERASPEN criteria", "yes_no", required=True,
          hint="Primary, persistent > 3 months, sterile, macroscopically visible pustules on "
               "palms and/or soles."),
    Field("smoking", "Smoking", "radio", choices("smoking"), required=True),
    Field("pack_years", "Pack-years", "number", hint="For current and former smokers."),
    Field("triggers", "Triggers", "checkboxes", choices("trigger")),
    Field("comorbidities", "Comorbidities", "checkboxes", choices("comorbidity")),
)  # fmt: skip
SCREEN_FIELDS = tuple(
    Field(test, kind="radio", options=choices("screening_result"),
          hint="Not done or indeterminate leaves screening pending.")
    for test in SCREEN_TESTS
)  # fmt: skip
PRIOR_FIELDS = tuple(
    field
    for i in range(PRIOR_ROWS)
    for field in (
        Field(f"prior_{i}_drug", f"Prior therapy {i + 1}: drug"),
        Field(f"prior_{i}_category", f"Prior therapy {i + 1}: type", "select",
              choices("prior_category")),
        Field(f"prior_{i}_response", f"Prior therapy {i + 1}: response", "select",
              choices("prior_response")),
    )
)  # fmt: skip
REASON = Field("reason", "Why the subject is screened again", "textarea", required=True)
ALL_FIELDS = (*SUBJECT_FIELDS, *BASELINE_FIELDS, *PRIOR_FIELDS, *LAB_FIELDS, *SCREEN_FIELDS)


def _payload(
    values: FormValues, fields: tuple[Field, ...]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as enrolment arguments, and every error the form alone can find."""
    data, errors = parse_fields(fields, values)
    priors = []
    for i in range(PRIOR_ROWS):
        row = {k: data.get(f"prior_{i}_{k}") for k in ("drug", "category", "response")}
        if not any(row.values()):
            continue
        for key, value in row.items():
            if value is None:
                errors.setdefault(f"prior_{i}_{key}", "is required for each prior therapy")
        priors.append(row)
    baseline = {f.name: data.get(f.name) for f in BASELINE_FIELDS}
    baseline["screening"] = {t: data[t] for t in SCREEN_TESTS if t in data}
    payload = {
        "screened_on": data.get("screened_on"),
        "baseline": baseline,
        "prior_therapies": priors,
        "screening_labs": {
            f.name.removeprefix("lab_"): data[f.name] for f in LAB_FIELDS if f.name in data
        },
    }
    if "code" in data or "site" in data:
        payload |= {"code": data.get("code", ""), "site": data.get("site", "")}
    return payload, errors


def _page(
    request: Request, protocol: Protocol, values: FormValues, errors: dict[str, str], **extra: Any
) -> Response:
    fields = {f.name: f for f in (*ALL_FIELDS, REASON)}
    return render(
        request, "enrol.html", status_code=400 if errors else 200, protocol=protocol,
        values=values, errors=errors, by_name=fields, subject_fields=SUBJECT_FIELDS,
        baseline_fields=BASELINE_FIELDS, lab_fields=LAB_FIELDS, screen_fields=SCREEN_FIELDS,
        prior_rows=range(PRIOR_ROWS), reason_field=REASON, **extra,
    )  # fmt: skip


def _sites(request: Request) -> tuple[Protocol, tuple[Field, ...]]:
    page = study_page(get_store(request), sites=[], today=date.today())
    visible = principal_of(request).visible(page.sites)
    site = Field("site", "Site", "select", tuple((s, s) for s in visible), required=True)
    fields = tuple(site if f.name == "site" else f for f in ALL_FIELDS)
    return page.protocol, fields


@router.get("/subjects/new", name="enrol_form", response_class=HTMLResponse)
def enrol_form(request: Request) -> Response:
    protocol, fields = _sites(request)
    return _page(request, protocol, {}, {}, site_field=fields[1])


@router.post("/subjects", name="enrol_save", response_class=HTMLResponse)
async def enrol_save(request: Request) -> Response:
    protocol, fields = _sites(request)
    values = form_values(await request.form(), fields)
    payload, errors = _payload(values, fields)
    if not errors:
        try:
            result = await run_in_threadpool(
                enrol, get_store(request), principal_of(request).username, payload
            )
        except PustulaError as exc:
            errors = error_messages(exc, [f.name for f in fields])
        else:
            return render(request, "enrol_result.html", result=result, code=payload["code"])
    return _page(request, protocol, values, errors, site_field=fields[1])


@router.post("/subjects/eligibility", name="eligibility_preview")
async def eligibility_preview(request: Request) -> Response:
    """The checklist for what is typed so far (nothing is saved): the form's live check."""
    protocol, fields = _sites(request)
    payload, _ = _payload(form_values(await request.form(), fields), fields)
    try:
        base = BaselineIn.model_construct(**payload["baseline"])
        priors = [
            parse_input(PriorTherapyIn, p) for p in payload["prior_therapies"] if all(p.values())
        ]
        facts = eligibility_data(
            base, priors, payload["screening_labs"], refractory=protocol.refractory
        )
        result = evaluate_eligibility(protocol, facts)
    except PustulaError:
        return JSONResponse({"criteria": []})
    return JSONResponse(
        {
            "criteria": [
                {"id": c.id, "state": "met" if c.passed else
                 ("pending" if c.met is None else "failed"), "reason": c.reason}
                for c in result.criteria
            ]
        }
    )  # fmt: skip


def _screenable(request: Request) -> None:
    subject = scoped_timeline(request).subject
    if subject.status not in SCREENING_STATES:
        raise HTTPException(status_code=409, detail="Only a pending screening or a screen "
                            "failure can be screened again.")  # fmt: skip


def _current(request: Request) -> FormValues:
    t = scoped_timeline(request)
    values: FormValues = {"screened_on": date.today().isoformat()}
    if t.baseline is not None:
        b = t.baseline
        values |= {
            "age": str(b.age), "sex": b.sex, "smoking": b.smoking,
            "disease_duration_months": f"{b.disease_duration_months:g}",
            "eraspen_ppp": "yes" if b.eraspen_ppp else "no",
            "pack_years": "" if b.pack_years is None else f"{b.pack_years:g}",
            "triggers": list(b.triggers), "comorbidities": list(b.comorbidities),
            **{test: result for test, result in b.screening.items()},
        }  # fmt: skip
    # the latest stored result of each screening test (labs are ordered by date)
    for lab in t.labs:
        if f"lab_{lab.test}" in {f.name for f in LAB_FIELDS}:
            values[f"lab_{lab.test}"] = f"{lab.value:g}"
    for i, p in enumerate(t.prior_therapies[:PRIOR_ROWS]):
        values |= {f"prior_{i}_drug": p.drug, f"prior_{i}_category": p.category,
                   f"prior_{i}_response": p.response}  # fmt: skip
    return values


@router.get("/subjects/{code}/rescreen", name="rescreen_form", response_class=HTMLResponse)
def rescreen_form(request: Request, code: str) -> Response:
    _screenable(request)
    return _page(request, scoped_protocol(request), _current(request), {}, rescreen_of=code)


@router.post("/subjects/{code}/rescreen", name="rescreen_save", response_class=HTMLResponse)
async def rescreen_save(request: Request, code: str) -> Response:
    _screenable(request)
    fields = (*(f for f in ALL_FIELDS if f.name not in ("code", "site")), REASON)
    values = form_values(await request.form(), fields)
    payload, errors = _payload(values, fields)
    if not errors:
        try:
            result = await run_in_threadpool(
                rescreen, get_store(request), principal_of(request).username, code,
                payload, reason=str(values.get("reason", "")),
            )  # fmt: skip
        except PustulaError as exc:
            errors = error_messages(exc, [f.name for f in fields])
        else:
            return render(request, "enrol_result.html", result=result, code=code)
    return _page(request, scoped_protocol(request), values, errors, rescreen_of=code)
