"""What the dashboard and the report pages show, computed from the store for one user."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any

from pustula.analysis.endpoints import EndpointResult
from pustula.protocol.status import SubjectStatus
from pustula.report import Report, build_report, render_html, render_pdf
from pustula.report.build import APP_PANEL
from pustula.report.docx import render_docx
from pustula.store import Store
from pustula.store.services.clinical import data_version, study_page
from pustula.store.transfer.extract import StudyData, read_study, restrict
from pustula.web.access import Principal

__all__ = [
    "dashboard_view", "endpoints_for", "report_for", "report_html_for", "report_pdf_for",
    "study_for",
]  # fmt: skip


def dashboard_view(store: Store, principal: Principal, *, today: date) -> dict[str, Any]:
    from pustula.analysis import build_analysis, compute_endpoints

    page = study_page(store, sites=principal.site_filter, today=today)
    rows, schedule = page.subjects, page.schedule
    codes = {r.code for r in rows}
    data = restrict(read_study(store), codes)
    endpoints = compute_endpoints(build_analysis(data)) if len(data.subjects) else []
    labs = data.labs
    alerts = labs[labs["on_treatment"].astype(bool) & labs["alerts"].map(bool)]
    aes = data.adverse_events
    serious = aes[aes["serious"].astype(bool)] if len(aes) else aes
    subjects = data.subjects
    undosed = (
        subjects[(subjects["status"] == SubjectStatus.ENROLLED) & subjects["first_dose"].isna()]
        if len(subjects)
        else subjects
    )
    from pustula.store.services.monitoring import search_queries

    queries = search_queries(store, sites=principal.site_filter, today=today)
    return {
        "queries": Counter(q.query.state for q in queries),
        "study": page,
        "protocol": page.protocol,
        "status_counts": Counter(r.status for r in rows),
        "by_site": Counter(r.site for r in rows if r.status == SubjectStatus.ENROLLED),
        "due": [v for v in schedule if v.state == "due"],
        "overdue": [v for v in schedule if v.state == "overdue"],
        "out_of_window": [v for v in schedule if v.state == "out_of_window"],
        "endpoints": endpoints,
        "pending": [r for r in rows if r.status == SubjectStatus.SCREENING_PENDING],
        "undosed": sorted(undosed["subject"]) if len(undosed) else [],
        "serious": [
            {
                "subject": r["subject"],
                "term": r["term"],
                "grade": r["grade"],
                "start": r["start_date"].date(),
                "outcome": r["outcome"],
                "ongoing": r["end_date"] is None or r["end_date"] != r["end_date"],
            }
            for r in serious.to_dict("records")
        ],
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


def study_for(store: Store, principal: Principal) -> StudyData:
    """The study's data, restricted to the subjects of the user's sites; for a blinded
    reader of a blinded trial, with its arms pooled into one."""
    data = read_study(store, arms=principal.can("unblinded"))
    if "*" not in principal.sites:
        visible = data.subjects.loc[data.subjects["site"].isin(principal.sites), "subject"]
        data = restrict(data, set(visible))
    return data


def endpoints_for(store: Store, principal: Principal) -> list[EndpointResult]:
    """The protocol's endpoints on the subjects of the user's sites: what the report's
    endpoint table shows, without building its tables and figures."""
    from pustula.analysis import build_analysis, compute_endpoints

    return compute_endpoints(build_analysis(study_for(store, principal)))


#: Analysis options chosen in the report's form, as (setting, value) pairs; () is the plan.
Choices = tuple[tuple[str, Any], ...]


def report_for(store: Store, principal: Principal, choices: Choices = ()) -> Report:
    """The study report on the subjects of the user's sites, with the analysis options
    ``choices`` (a sensitivity analysis) or the protocol's analysis plan."""
    from pustula.analysis.options import settings_with

    data = study_for(store, principal)
    return build_report(data, settings_with(data.protocol, dict(choices)))


@dataclass
class _Rendered:
    """One report and the renderings asked of it so far."""

    report: Report
    html: str | None = None
    pdf: bytes | None = None
    docx: bytes | None = None


#: Reports by (store, sites seen, unblinded, options, data version). Building one draws every
#: figure (seconds), and most views of the report come between two saves; a save moves the
#: data version.
_REPORTS: OrderedDict[tuple[Any, ...], _Rendered] = OrderedDict()
_REPORTS_LOCK = threading.Lock()
_REPORTS_KEPT = 8


def _rendered(store: Store, principal: Principal, choices: Choices) -> _Rendered:
    # the version is read before the data: a report is never older than its key says
    # one report per study: the store each request gets is a copy scoped to its study
    key = (id(store.engine), store.study, tuple(sorted(principal.sites)),
           principal.can("unblinded"), choices, data_version(store))  # fmt: skip
    with _REPORTS_LOCK:
        if (hit := _REPORTS.get(key)) is not None:
            _REPORTS.move_to_end(key)
            return hit
    built = _Rendered(report_for(store, principal, choices))
    with _REPORTS_LOCK:
        _REPORTS[key] = built
        while len(_REPORTS) > _REPORTS_KEPT:
            _REPORTS.popitem(last=False)
    return built


def report_html_for(
    store: Store, principal: Principal, choices: Choices = (), *, panel: str = ""
) -> str:
    """The report as a web page with the app's ``panel`` (the options form) on top; the
    report itself is built again only when the data or the options have changed."""
    rendered = _rendered(store, principal, choices)
    if rendered.html is None:
        rendered.html = render_html(rendered.report, in_app=True)
    return rendered.html.replace(APP_PANEL, panel, 1)


def report_docx_for(store: Store, principal: Principal, choices: Choices = ()) -> tuple[str, bytes]:
    """(study code, Word document) of the report, built again only when the data changed."""
    rendered = _rendered(store, principal, choices)
    if rendered.docx is None:
        rendered.docx = render_docx(rendered.report)
    return rendered.report.study.code, rendered.docx


def report_pdf_for(store: Store, principal: Principal, choices: Choices = ()) -> tuple[str, bytes]:
    """(study code, PDF) of the report, built again only when the data has changed."""
    rendered = _rendered(store, principal, choices)
    if rendered.pdf is None:
        rendered.pdf = render_pdf(rendered.report)
    return rendered.report.study.code, rendered.pdf
