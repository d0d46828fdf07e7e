"""The data monitoring committee's report: conduct and safety so far, in two versions.

The *closed* report (for the DMC and the unblinded statistician) gives every count by arm.
The *open* report (for the sponsor, the investigators and the DMC's open session) pools
the arms: it is built from the blinded read of the study, so it cannot show an arm even by
mistake. Neither shows efficacy by arm; an interim look on efficacy is the design's own
(:mod:`pustula.report.interim`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from pustula.analysis import tables
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.safety import safety_rows, treatment_emergent_events
from pustula.analysis.tables import Rounding, fmt_number
from pustula.protocol.populations import DEVIATION_CATEGORIES

__all__ = ["DmcReport", "dmc_report", "render_dmc_html", "render_dmc_pdf"]

OVERALL = "All subjects"


@dataclass(frozen=True)
class DmcReport:
    """What a DMC report shows, computed.

    Examples
    --------
    >>> report = dmc_report(demo_analysis(), closed=False)
    >>> report.closed, list(report.tables)[0]
    (False, 'Enrolment by month')
    """

    closed: bool
    code: str
    title: str
    generated_at: str
    groups: tuple[str, ...]
    tables: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)


def _groups(analysis: AnalysisData, closed: bool) -> dict[str, str]:
    """Each subject's column: the arm's label (closed) or one pooled column (open)."""
    subjects = analysis.adsl["SUBJID"]
    if not closed:
        return dict.fromkeys(subjects, OVERALL)
    labels = {a.code: a.label for a in analysis.study.protocol.arms}
    arms = analysis.study.allocation.set_index("subject")["arm"] if len(
        analysis.study.allocation) else pd.Series(dtype=object)  # fmt: skip
    by_subject = analysis.adsl.set_index("SUBJID")["ARM"]
    return {s: labels.get(str(arms.get(s, by_subject.get(s))), "Not randomized")
            for s in subjects}  # fmt: skip


def _counts(rows: dict[str, dict[str, int]], columns: list[str], heading: str) -> pd.DataFrame:
    return pd.DataFrame([{heading: label, **{c: str(cells.get(c, 0)) for c in columns}}
                         for label, cells in rows.items()])  # fmt: skip


def _enrolment(analysis: AnalysisData, group: dict[str, str], columns: list[str]) -> pd.DataFrame:
    s = analysis.study.subjects
    month = pd.to_datetime(s["screened_on"]).dt.strftime("%Y-%m")
    randomized = set(analysis.study.allocation.get("subject", pd.Series(dtype=object)))
    rows: dict[str, dict[str, int]] = {}
    for subject, when in zip(s["subject"], month, strict=True):
        cells = rows.setdefault(str(when), {})
        cells["Screened"] = cells.get("Screened", 0) + 1
        if subject in randomized or not analysis.study.protocol.randomized:
            key = group.get(subject, OVERALL)
            cells[key] = cells.get(key, 0) + 1
    return _counts(dict(sorted(rows.items())), ["Screened", *columns], "Month")


def _disposition(analysis: AnalysisData, group: dict[str, str], columns: list[str]) -> pd.DataFrame:
    adsl = analysis.adsl
    rows: dict[str, dict[str, int]] = {}
    stages = (
        ("Randomized" if analysis.study.protocol.randomized else "Enrolled",
         adsl["ENRLFL"] == "Y" if not analysis.study.protocol.randomized
         else adsl.get("RANDFL", adsl["ENRLFL"]) == "Y"),
        ("Dosed", adsl["SAFFL"] == "Y"),
        ("Ongoing", adsl["EOSSTT"] == "ONGOING"),
        ("Completed", adsl["EOSSTT"] == "COMPLETED"),
        ("Withdrawn", adsl["EOSSTT"] == "DISCONTINUED"),
    )  # fmt: skip
    for label, mask in stages:
        for subject in adsl.loc[mask, "SUBJID"]:
            cells = rows.setdefault(label, {})
            cells[group[subject]] = cells.get(group[subject], 0) + 1
        rows.setdefault(label, {})
    withdrawn = adsl[adsl["EOSSTT"] == "DISCONTINUED"]
    for subject, reason in zip(withdrawn["SUBJID"], withdrawn["DCSREAS"].fillna("not recorded"),
                               strict=True):  # fmt: skip
        cells = rows.setdefault(f"    {reason}", {})
        cells[group[subject]] = cells.get(group[subject], 0) + 1
    return _counts(rows, columns, "Subjects")


def _deviations(analysis: AnalysisData, group: dict[str, str], columns: list[str]) -> pd.DataFrame:
    rows: dict[str, dict[str, int]] = {}
    deviations = analysis.study.deviations
    for subject, kind in zip(deviations.get("subject", []), deviations.get("category", []),
                             strict=True):  # fmt: skip
        cells = rows.setdefault(DEVIATION_CATEGORIES.get(kind, kind), {})
        cells[group[subject]] = cells.get(group[subject], 0) + 1
    return _counts(rows, columns, "Deviation")


def _completeness(analysis: AnalysisData) -> pd.DataFrame:
    visits = analysis.study.assessments.drop_duplicates(["subject", "visit_code"])
    labels = {code: label for code, label, _ in analysis.visits}
    rows = []
    for code, label in labels.items():
        at = visits[visits["visit_code"] == code]
        missed = int((at["visit_status"] == "missed").sum())
        rows.append({"Visit": label, "Recorded": str(len(at) - missed), "Missed": str(missed)})
    return pd.DataFrame(rows)


def _safety(analysis: AnalysisData, group: dict[str, str], columns: list[str],
            rounding: Rounding) -> dict[str, pd.DataFrame]:  # fmt: skip
    ard = pd.DataFrame(list(safety_rows(analysis, by=group)))
    out: dict[str, pd.DataFrame] = {}
    titles = (
        ("ae_overview", "Adverse events: overview (safety set)"),
        ("lab_shift", "Lab shifts: grade before the first dose → worst"),
    )
    for table, title in titles:
        part = ard[ard["table"] == table] if len(ard) else ard
        wide: dict[str, dict[str, str]] = {}
        for (variable, level, g), rows in part.groupby(["variable", "level", "group"],
                                                       sort=False):  # fmt: skip
            stats = dict(zip(rows["stat"], rows["value"], strict=True))
            name = f"{variable}{': ' + str(level) if level else ''}"
            pct = fmt_number(stats["pct"], 1, rounding=rounding)
            wide.setdefault(name, {})[str(g)] = f"{int(stats['n'])} ({pct}%)"
        out[title] = pd.DataFrame([{"Measure": k, **{c: v.get(c, "0") for c in columns}}
                                   for k, v in wide.items()])  # fmt: skip
    serious = treatment_emergent_events(analysis)
    serious = serious[serious["serious"].astype(bool)]
    out["Serious adverse events"] = pd.DataFrame({
        "Subject": serious["subject"],
        **({"Arm": serious["subject"].map(group)} if len(columns) > 1 else {}),
        "Preferred term": serious["meddra_pt"].fillna(serious["term"]),
        "CTCAE grade": serious["grade"].astype(str),
        "Onset": serious["start_date"].astype(str),
        "Outcome": serious["outcome"],
    })  # fmt: skip
    return out


def dmc_report(analysis: AnalysisData, *, closed: bool) -> DmcReport:
    """The DMC report of ``analysis`` (read unblinded for the closed version)."""
    group = _groups(analysis, closed)
    columns = list(dict.fromkeys(v for v in group.values() if v != "Not randomized")) or [OVERALL]
    arm_labels = [a.label for a in analysis.study.protocol.arms]
    columns = [c for c in arm_labels if c in columns] or columns
    rounding = analysis.settings.rounding
    table_set = {
        "Enrolment by month": _enrolment(analysis, group, columns).rename(
            columns={OVERALL: "Randomized" if analysis.study.protocol.randomized else "Enrolled"}
        ),
        "Disposition": _disposition(analysis, group, columns),
        "Protocol deviations": _deviations(analysis, group, columns),
        "Visits recorded and missed": _completeness(analysis),
        **_safety(analysis, group, columns, rounding),
    }
    version = "CLOSED: by arm, for the DMC only" if closed else "OPEN: arms pooled"
    notes = [f"{version}."]
    if analysis.study.synthetic:
        notes.append("SYNTHETIC data: not patient data and not a trial result.")
    return DmcReport(closed, analysis.study.code, analysis.study.protocol.title,
                     datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), tuple(columns),
                     table_set, notes)  # fmt: skip


_ENV = Environment(loader=PackageLoader("pustula.report", "templates"),
                   autoescape=select_autoescape(["html", "j2"]))  # fmt: skip


def render_dmc_html(report: DmcReport, *, in_app: bool = False) -> str:
    """The DMC report as one HTML page (``in_app``: with the web app's way back and PDF).

    >>> html = render_dmc_html(dmc_report(demo_analysis(), closed=False))
    >>> "OPEN: arms pooled" in html
    True
    """
    html_tables = {k: Markup(tables.to_html(v)) for k, v in report.tables.items()}
    return _ENV.get_template("dmc.html.j2").render(report=report, tables=html_tables, in_app=in_app)


def render_dmc_pdf(report: DmcReport) -> bytes:
    """The DMC report as PDF bytes (WeasyPrint)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_dmc_html(report)).write_pdf()
    return pdf
