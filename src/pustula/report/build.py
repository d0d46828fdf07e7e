"""The study report: everything computed first, then rendered to HTML or PDF."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from pustula import __version__
from pustula.analysis import tables
from pustula.analysis.ard import build_ard
from pustula.analysis.ci import CI_METHOD_NAMES
from pustula.analysis.datasets import POPULATIONS, AnalysisData, AnalysisSettings, build_analysis
from pustula.analysis.endpoints import EndpointResult, compute_endpoints, pga_definition
from pustula.analysis.options import departures
from pustula.analysis.plots import Figure_, all_figures, consort_flow
from pustula.protocol.randomization import Minimization, are_pooled
from pustula.protocol.status import SubjectStatus, VisitStatus
from pustula.report.care import care_checklist
from pustula.report.evidence import Comparison, NextStudy, compare_endpoints, next_study
from pustula.report.trial import TrialReport, trial_report
from pustula.scoring import get_instrument
from pustula.store.transfer.extract import StudyData

__all__ = [
    "Report",
    "build_report",
    "render_html",
    "render_pdf",
    "report_from_analysis",
]

SYNTHETIC_NOTICE = (
    "The data in this report are SYNTHETIC. They were chosen to reproduce the published "
    "aggregates of the tofacitinib case series (Xu et al. 2023, doi:10.2147/IDR.S421299) "
    "and are not patient data."
)
#: The notice of a synthetic randomized trial (``pustula demo --trial``): invented subjects.
SYNTHETIC_TRIAL_NOTICE = (
    "The data in this report are SYNTHETIC: invented subjects of a demo trial. They are not "
    "patient data and not a trial result."
)

IMPUTATION_TEXT = {
    "OC": "Observed cases: subjects without a value at a visit are left out of that visit's "
    "denominator.",
    "LOCF": "Last observation carried forward: a missed post-baseline visit takes the subject's "
    "last observed post-baseline value (DTYPE = LOCF); the baseline is not carried, so a "
    "subject with no post-baseline value stays missing.",
    "LOCF_BASELINE": "Last observation carried forward, the baseline included: a missed "
    "post-baseline visit takes the subject's last observed value, which is the baseline when "
    "there is no post-baseline value (DTYPE = LOCF).",
    "NRI": "Non-responder imputation: a subject with a baseline but no value at a visit counts as "
    "a non-responder there (DTYPE = NRI).",
}


@dataclass(frozen=True)
class Report:
    """What a report shows, already computed; rendering only lays it out.

    Examples
    --------
    >>> report = report_from_analysis(demo_analysis(), figures=False)
    >>> [r.endpoint for r in report.endpoints][:2], sorted(report.tables)[:2]
    (['PPPASI50_W4', 'PPPASI80_W4'], ['Adverse events by SOC and PT', 'Adverse events: overview
    (safety set)'])
    """

    analysis: AnalysisData
    ard: pd.DataFrame
    endpoints: list[EndpointResult]
    tables: dict[str, pd.DataFrame]
    figures: list[Figure_]
    disposition: list[tuple[str, int]]
    methods: list[str]
    reproducibility: dict[str, str]
    generated_at: str
    notes: list[str] = field(default_factory=list)
    populations: list[tuple[str, int, str]] = field(default_factory=list)
    care: list[tuple[str, str, str]] = field(default_factory=list)
    #: the study's endpoints among comparable published results, and the next study's size
    evidence: list[Comparison] = field(default_factory=list)
    next_study: NextStudy | None = None
    #: a randomized trial read unblinded: its comparison by arm (None otherwise)
    trial: TrialReport | None = None

    @property
    def study(self) -> StudyData:
        return self.analysis.study

    @property
    def fas_n(self) -> int:
        """Subjects in the full analysis set, every endpoint's population."""
        return int((self.analysis.adsl["FASFL"] == "Y").sum())

    def fmt(self, value: float | None, decimals: int = 1) -> str:
        """A number rounded by the analysis' rounding rule ("NE" when missing)."""
        return tables.fmt_number(value, decimals, rounding=self.analysis.settings.rounding)

    def pct(self, value: float | None) -> str:
        return "NE" if value is None else self.fmt(100 * value)


def _flow(analysis: AnalysisData) -> list[tuple[str, int]]:
    """The subjects at each stage: screening, enrolment, dosing, analysis, completion."""
    s = analysis.study.subjects
    adsl = analysis.adsl
    last = analysis.visits[-1]
    visits = analysis.study.assessments
    completed = visits.loc[
        (visits["visit_code"] == last[0]) & (visits["visit_status"] != VisitStatus.MISSED),
        "subject",
    ]
    dosed = adsl["SAFFL"] == "Y"
    return [
        ("Screened", len(s)),
        ("Screen failures", int((s["status"] == SubjectStatus.SCREEN_FAILURE).sum())),
        ("Enrolled", int((adsl["ENRLFL"] == "Y").sum())),
        ("Dosed (safety set)", int(dosed.sum())),
        ("Full analysis set", int((adsl["FASFL"] == "Y").sum())),
        (f"Attended {last[1]}", int(adsl.loc[dosed, "SUBJID"].isin(completed).sum())),
        ("Withdrawn", int((dosed & (adsl["WDFL"] == "Y")).sum())),
    ]


def _flow_diagram(
    analysis: AnalysisData,
) -> tuple[list[tuple[str, int]], list[tuple[str, int] | None]]:
    """The flow's stages, and who left between each two of them."""
    n = dict(_flow(analysis))
    last = analysis.visits[-1][1]
    names = ["Screened", "Enrolled", "Dosed (safety set)", "Full analysis set", f"Attended {last}"]
    stages = [(name, n[name]) for name in names]
    gone = [a - b for (_, a), (_, b) in itertools.pairwise(stages)]
    exits: list[tuple[str, int] | None] = [
        ("Screen failures or not enrolled", gone[0]),
        ("Enrolled, never dosed", gone[1]),
        ("No baseline PPPASI", gone[2]),
        (f"Did not attend {last} (withdrawn: {n['Withdrawn']})", gone[3]),
    ]
    return stages, exits


def _disposition(analysis: AnalysisData) -> list[tuple[str, int]]:
    efficacy = analysis.efficacy
    observed = efficacy[
        (efficacy["PARAMCD"] == "PPPASI") & efficacy["DTYPE"].isna() & efficacy["AVAL"].notna()
    ]
    rows = _flow(analysis)
    rows += [
        (f"PPPASI observed at {label}", int((observed["VISITCD"] == code).sum()))
        for code, label, _ in analysis.visits
    ]
    return rows


def _populations(analysis: AnalysisData) -> list[tuple[str, int, str]]:
    return [
        (name, int((analysis.adsl[flag] == "Y").sum()), text) for flag, name, text in POPULATIONS
    ]


WINDOW_TEXT = {
    "nominal": "Visits are analysed at their nominal visit; a visit outside its protocol window "
    "is kept and flagged (OUTWINFL) and listed in the table of out-of-window visits.",
    "protocol": "Post-baseline values outside their protocol window are left out of the "
    "analysis (listed in the table of out-of-window visits); the missing-data rule then "
    "applies to that visit.",
}
BASELINE_ZERO_TEXT = {
    "not_evaluable": "A subject with a baseline PPPASI of 0 has no percentage change and is not "
    "evaluable for PPPASI response: never a responder, and left out of the denominator.",
    "non_responder": "A subject with a baseline PPPASI of 0 has no percentage change and is "
    "counted as a non-responder.",
}
ROUNDING_TEXT = {
    "half_up": "Tables round half up on the decimal value (2.25 → 2.3), as SAS and R users expect.",
    "half_even": "Tables round half to even on the decimal value (2.25 → 2.2).",
}


def _methods(analysis: AnalysisData) -> list[str]:
    st = analysis.settings
    protocol = analysis.study.protocol
    base = protocol.baseline_visit
    cut_text = (
        "a reduction from baseline of at least the cut-off (≥)"
        if st.operator == ">="
        else "a reduction from baseline of more than the cut-off (>)"
    )
    zeros = "dropped (Wilcoxon)" if st.wilcoxon_zero_method == "wilcox" else "ranked (Pratt)"
    return [
        "Populations: the safety set is every enrolled subject who received at least one dose; "
        "the full analysis set is every subject of the safety set with a baseline PPPASI. "
        "Efficacy tables, figures and endpoints use the full analysis set; baseline and safety "
        "tables use the safety set.",
        f"Baseline is the last non-missing value on or before the first dose (planned at visit "
        f"{base.label}). Change is CHG = AVAL − BASE and PCHG = 100 × CHG / BASE.",
        f"PPPASI{'/'.join(str(c) for c in st.cutoffs)} response is {cut_text}, compared "
        "exactly on the PPPASI's one-decimal scale. Every endpoint, table and figure uses "
        "this one definition.",
        BASELINE_ZERO_TEXT[st.baseline_zero],
        pga_definition(st) + " (PGA 0/1).",
        WINDOW_TEXT[st.visit_windows],
        f"Missing data: {IMPUTATION_TEXT[st.imputation]}",
        f"Confidence intervals for rates: {CI_METHOD_NAMES[st.ci_method]}, two-sided "
        f"{st.level_label}. Mean % change: t interval with n − 1 degrees of freedom. The "
        f"Bayesian summary uses a Beta({st.posterior_prior[0]:g}, {st.posterior_prior[1]:g}) "
        f"prior and reports the posterior probability that the response rate exceeds "
        f"{100 * st.posterior_threshold:g}% (column P(rate > "
        f"{100 * st.posterior_threshold:g}%) of the responder table).",
        "Change from baseline is tested with the two-sided Wilcoxon signed-rank test on observed "
        f"cases; zero changes are {zeros}. The p-value comes from the exact null distribution "
        "of the sample's own ranks, which accounts for ties and zeros; with few subjects it is "
        "descriptive only, and the table states the smallest p-value the sample allows.",
        "Adverse events are counted as subjects, not events, by MedDRA SOC and PT as coded; "
        "treatment-emergent means starting on or after the first dose day, or worsening on "
        "treatment. Severity is the CTCAE v5.0 grade; seriousness follows ICH E2A and is a "
        "separate field.",
        "Lab alerts follow the protocol's rules. CTCAE v5.0 grades are given for ALT/AST (by "
        "multiples of the ULN, or of the baseline value when the baseline is above the ULN) "
        "and neutrophils on treatment, compared in exact decimal arithmetic.",
        ROUNDING_TEXT[st.rounding],
    ]


def _generated_at(data: StudyData) -> str:
    """A locked study's report is dated by its lock, so that it is the same every time."""
    if data.lock is not None:
        return f"{data.lock['locked_at'][:16].replace('T', ' ')} UTC (database lock)"
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _reproducibility(analysis: AnalysisData) -> dict[str, str]:
    versions = analysis.adqs.dropna(subset=["INSTVER"]).groupby("PARAMCD")["INSTVER"].unique()
    instruments = "; ".join(f"{k} {', '.join(map(str, v))}" for k, v in versions.items())
    current = ", ".join(f"{n} {get_instrument(n).version}" for n in ("pppasi", "pga"))
    return {
        "Pustula version": __version__,
        "Instrument versions in the data": instruments or "none",
        "Instrument versions of this Pustula": current,
        "Protocol": _protocol_line(analysis.study),
        "Analysis plan": "; ".join(map(str, departures(analysis.settings, analysis.study.protocol)))
        or "followed as the protocol states it",
        "Data snapshot (SHA-256)": analysis.study.snapshot_hash(),
        **_lock_lines(analysis.study),
    }


def _lock_lines(data: StudyData) -> dict[str, str]:
    lock = data.lock
    if lock is None:
        return {"Database lock": "not locked: the data may still change"}
    return {
        "Database lock": f"locked {lock['locked_at'][:19].replace('T', ' ')} UTC by "
        f"{lock['locked_by']}: {lock['reason']}",
        "Data SHA-256 at the lock": lock["snapshot_sha256"],
    }


def _amendments_table(analysis: AnalysisData) -> dict[str, pd.DataFrame]:
    """The protocol's approved amendments, when it has any: each visit was judged by the
    windows of the version in force on its date."""
    history = analysis.study.history
    if history is None or len(history.versions) < 2:
        return {}
    rows = [{
        "Version": v.version,
        "Takes effect": v.effective_on.isoformat() if v.effective_on else "",
        "Approved": f"{v.approved_at[:10]} by {v.approved_by}: {v.reason}",
        "Subjects consent again": "yes" if v.reconsent else "no",
        "What it changes": "; ".join(c.text for c in changes),
    } for v, changes in history.amendments]  # fmt: skip
    return {"Protocol amendments": pd.DataFrame(rows)}


def _protocol_line(data: StudyData) -> str:
    line = f"{data.protocol.id} version {data.protocol.version}"
    if data.history is not None and len(data.history.versions) > 1:
        spans = [f"{v.version} from {v.effective_on.isoformat()}"
                 for v in data.history.versions if v.effective_on]  # fmt: skip
        line += f"; first version {data.history.versions[0].version}, then {', '.join(spans)}"
    return line


def _out_of_window_table(analysis: AnalysisData) -> pd.DataFrame:
    rows = analysis.out_of_window.drop_duplicates(["USUBJID", "VISITCD"])
    label = {code: name for code, name, _ in analysis.visits}
    analysed = "left out" if analysis.settings.visit_windows == "protocol" else "analysed, flagged"
    return pd.DataFrame(
        {
            "Subject": rows["SUBJID"].astype(str),
            "Visit": rows["VISITCD"].map(label),
            "Days from target day": rows["AWTDIFF"].map(lambda d: f"{int(d):+d}"),
            "In the analysis": analysed,
        }
    ).reset_index(drop=True)


def build_report(
    data: StudyData, settings: AnalysisSettings | None = None, *, figures: bool = True
) -> Report:
    """Compute everything the report shows (``figures=False`` leaves the figures out).

    Examples
    --------
    >>> from pustula.store.transfer.extract import read_study
    >>> report = build_report(read_study(demo_store()), figures=False)
    >>> report.disposition[0]
    ('Screened', 6)
    """
    return report_from_analysis(build_analysis(data, settings), figures=figures)


def report_tables(analysis: AnalysisData, ard: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every table of the report, numbered in this order, formatted from the ARD."""
    labels = [label for _, label, _ in analysis.visits]
    n = int((analysis.adsl["SAFFL"] == "Y").sum())
    st = analysis.settings
    fmt: dict[str, Any] = {"rounding": st.rounding}
    level = st.level_label
    return {
        "Baseline characteristics (safety set)": tables.baseline_table(ard, **fmt),
        "PPPASI by visit (full analysis set)": tables.efficacy_table(
            ard, labels, level=level, **fmt
        ),
        "PPPASI responders by visit": tables.responder_table(
            ard,
            labels,
            st.cutoffs,
            st.operator,
            level=level,
            threshold=st.posterior_threshold,
            **fmt,
        ),
        "PPPASI change from baseline: Wilcoxon signed-rank test": tables.wilcoxon_table(
            ard, labels[1:], **fmt
        ),
        "PPP PGA by visit": tables.pga_table(ard, labels, level=level, **fmt),
        "Visits outside their protocol window": _out_of_window_table(analysis),
        **_amendments_table(analysis),
        "Adverse events: overview (safety set)": tables.ae_overview_table(ard, n, **fmt),
        "Adverse events by SOC and PT": tables.ae_soc_pt_table(ard, n, **fmt),
        "Lab alerts and worst CTCAE grade": tables.lab_table(ard, n, **fmt),
    }


def report_from_analysis(analysis: AnalysisData, *, figures: bool = True) -> Report:
    """The report of an analysis already built (see :func:`build_report`).

    Examples
    --------
    >>> report = report_from_analysis(demo_analysis(), figures=False)
    >>> report.endpoints[0].responders, report.endpoints[0].n
    (6, 6)
    """
    data = analysis.study
    ard = build_ard(analysis)
    drawn = [consort_flow(*_flow_diagram(analysis)), *all_figures(analysis)] if figures else []
    endpoints = compute_endpoints(analysis)
    trial = trial_report(analysis, figures=figures) if _unblinded_trial(data) else None
    tables_ = report_tables(analysis, ard)
    methods = _methods(analysis)
    if trial is not None:  # the comparison by arm first; the pooled tables after it
        tables_ = {**trial.tables, **tables_}
        drawn = [*trial.figures, *drawn]
        methods = [*_randomization_methods(data), *trial.methods, *methods]
    return Report(
        analysis=analysis,
        ard=ard,
        endpoints=endpoints,
        tables=tables_,
        figures=drawn,
        disposition=_disposition(analysis),
        methods=methods,
        reproducibility=_reproducibility(analysis),
        generated_at=_generated_at(data),
        notes=_notes(analysis),
        populations=_populations(analysis),
        care=care_checklist(),
        evidence=compare_endpoints(analysis, endpoints) if figures and trial is None else [],
        next_study=next_study(analysis, endpoints) if trial is None else None,
        trial=trial,
    )


def _notes(analysis: AnalysisData) -> list[str]:
    data = analysis.study
    notes = [SYNTHETIC_TRIAL_NOTICE if data.protocol.randomized else SYNTHETIC_NOTICE]
    if departed := departures(analysis.settings, data.protocol):
        notes.append("Sensitivity analysis: this report departs from the protocol's analysis "
                     f"plan. {'; '.join(map(str, departed))}.")  # fmt: skip
    return notes if data.synthetic else notes[1:]


def _unblinded_trial(data: StudyData) -> bool:
    """A randomized study read with its arms (an open trial, or an unblinded read)."""
    arms = data.protocol.arms
    return data.protocol.randomized and not are_pooled(arms) and len({a.code for a in arms}) > 1


def _randomization_methods(data: StudyData) -> list[str]:
    r = data.protocol.randomization
    if r is None:
        return []
    ratio = ":".join(str(a.ratio) for a in data.protocol.arms)
    how = (
        f"permuted blocks of sizes {', '.join(map(str, r.block_sizes))} chosen at random"
        if r.method == "permuted_blocks"
        else "Pocock–Simon minimization with a random element (p = "
        f"{(r.minimization or Minimization()).probability})"
    )
    strata = ", ".join(s.factor for s in r.strata) or "none"
    return [
        f"Randomization: {ratio} by {how}, stratified by {strata}; the list was generated "
        "from a recorded seed with an HMAC-SHA256 generator by the unblinded statistician "
        "and concealed in the database (blinded staff saw kit numbers only); "
        f"{r.blinding}-blind."
    ]


_ENV = Environment(
    loader=PackageLoader("pustula.report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _context(report: Report, *, for_pdf: bool) -> dict[str, Any]:
    def figure(f: Figure_) -> Markup:
        if for_pdf:
            encoded = base64.b64encode(f.png).decode()
            return Markup(f'<img src="data:image/png;base64,{encoded}" alt="{f.title}">')
        svg = f.svg[f.svg.index("<svg") :]
        return Markup(svg)

    return {
        "report": report,
        "study": report.study,
        "protocol": report.study.protocol,
        "tables": {k: Markup(tables.to_html(v)) for k, v in report.tables.items()},
        "figures": [(f, figure(f)) for f in report.figures],
        "evidence": [(c, figure(c.figure) if c.figure else None) for c in report.evidence],
        "pct": report.pct,
        "fmt": report.fmt,
        "level": report.analysis.settings.level_label,
        "method_name": CI_METHOD_NAMES[report.analysis.settings.ci_method],
        "instrument_names": instrument_names,
        "for_pdf": for_pdf,
    }


def instrument_names(names: tuple[str, ...]) -> str:
    """Instruments by their published names: "PPPASI, PPP PGA", never registry codes."""
    return ", ".join(INSTRUMENT_NAMES.get(n, n) for n in names)


INSTRUMENT_NAMES = {
    "pppasi": "PPPASI",
    "pga": "PPP PGA",
    "pga_composite": "PPP PGA (composite)",
    "dlqi": "DLQI",
    "pain_nrs": "Pain NRS",
    "itch_nrs": "Itch NRS",
}


#: Where the web app puts its navigation and options form in a report rendered ``in_app``.
APP_PANEL = "<!--pustula:app-panel-->"


def render_html(report: Report, *, for_pdf: bool = False, in_app: bool = False) -> str:
    """The study report as one self-contained HTML page (figures inline); ``in_app`` leaves
    :data:`APP_PANEL` where the web app adds its way back, downloads and options form.

    Examples
    --------
    >>> html = render_html(report_from_analysis(demo_analysis(), figures=False))
    >>> html.startswith("<!DOCTYPE html>"), "SYNTHETIC" in html.upper()
    (True, True)
    """
    context = _context(report, for_pdf=for_pdf)
    return _ENV.get_template("report.html.j2").render(
        **context, app_panel=Markup(APP_PANEL) if in_app else ""
    )


def render_pdf(report: Report) -> bytes:
    """The study report as PDF bytes (WeasyPrint), with the same content as the HTML.

    Examples
    --------
    >>> pdf = render_pdf(report_from_analysis(demo_analysis(), figures=False))
    >>> pdf[:5]
    b'%PDF-'
    """
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_html(report, for_pdf=True)).write_pdf()
    return pdf
