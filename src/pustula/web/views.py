"""What the dashboard and the report pages show, computed from the store for one user."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from pustula.errors import DataValidationError
from pustula.protocol.status import SubjectStatus
from pustula.report import Report, build_report
from pustula.store import Store
from pustula.store.extract import read_study, restrict
from pustula.store.services import study_page
from pustula.web.access import Principal

__all__ = ["dashboard_view", "enrolment_payload", "report_for"]


def dashboard_view(store: Store, principal: Principal, *, today: date) -> dict[str, Any]:
    from pustula.analysis import build_analysis, compute_endpoints

    page = study_page(store, sites=principal.site_filter, today=today)
    rows, schedule = page.subjects, page.schedule
    codes = {r.code for r in rows}
    data = restrict(read_study(store), codes)
    endpoints = compute_endpoints(build_analysis(data)) if len(data.subjects) else []
    labs = data.labs
    alerts = labs[labs["on_treatment"].astype(bool) & labs["alerts"].map(bool)]
    return {
        "study": page,
        "protocol": page.protocol,
        "status_counts": Counter(r.status for r in rows),
        "by_site": Counter(r.site for r in rows if r.status == SubjectStatus.ENROLLED),
        "due": [v for v in schedule if v.state == "due"],
        "overdue": [v for v in schedule if v.state == "overdue"],
        "out_of_window": [v for v in schedule if v.state == "out_of_window"],
        "endpoints": endpoints,
        "alerts": [
            {
                "subject": r["subject"],
                "test": r["test"],
                "value": r["value"],
                "unit": r["unit"],
                "date": r["sample_date"].date(),
                "text": "; ".join(a["text"] for a in r["alerts"]),
            }
            for r in alerts.to_dict("records")
        ],
    }


def report_for(store: Store, principal: Principal) -> Report:
    """The study report on the subjects of the user's sites."""
    data = read_study(store)
    if "*" not in principal.sites:
        visible = data.subjects.loc[data.subjects["site"].isin(principal.sites), "subject"]
        data = restrict(data, set(visible))
    return build_report(data)


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def enrolment_payload(form: Mapping[str, str]) -> dict[str, Any]:
    """The enrolment form as :func:`pustula.store.enrol_subject` arguments."""

    def number(name: str) -> float | None:
        value = form.get(name, "").strip()
        if not value:
            return None
        try:
            return float(value)
        except ValueError:
            raise DataValidationError(
                f"{name}: enter a number; got `{value}`", field=name
            ) from None

    try:
        screened = date.fromisoformat(form.get("screened_on", ""))
    except ValueError:
        raise DataValidationError(
            "screened_on: enter the date as YYYY-MM-DD", field="screened_on"
        ) from None
    prior = []
    for category in ("topical", "phototherapy", "systemic", "biologic"):
        for drug in _split(form.get(f"prior_{category}", "")):
            prior.append(
                {
                    "category": category,
                    "drug": drug,
                    "response": form.get(f"prior_{category}_response", "none"),
                }
            )
    labs = {
        t: v
        for t in ("lymphocytes", "neutrophils", "haemoglobin")
        if (v := number(f"lab_{t}")) is not None
    }
    baseline: dict[str, Any] = {
        "age": form.get("age", ""),
        "sex": form.get("sex", ""),
        "disease_duration_months": form.get("disease_duration_months", ""),
        "eraspen_ppp": form.get("eraspen_ppp") == "on",
        "smoking": form.get("smoking", ""),
        "pack_years": number("pack_years"),
        "triggers": _split(form.get("triggers", "")),
        "comorbidities": _split(form.get("comorbidities", "")),
        "screening": {
            name: form[name] for name in ("tuberculosis", "hepatitis") if form.get(name, "")
        },
    }
    return {
        "code": form.get("code", "").strip(),
        "site": form.get("site", ""),
        "screened_on": screened,
        "baseline": baseline,
        "prior_therapies": prior,
        "screening_labs": labs,
    }
