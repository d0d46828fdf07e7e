"""The study report: everything computed first, then rendered to HTML or PDF."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from pustula import __version__
from pustula.analysis import tables
from pustula.analysis.ard import build_ard
from pustula.analysis.ci import CI_METHOD_NAMES
from pustula.analysis.datasets import AnalysisData, AnalysisSettings, build_analysis
from pustula.analysis.endpoints import EndpointResult, compute_endpoints
from pustula.analysis.plots import Figure_, all_figures
from pustula.scoring import get_instrument
from pustula.store import Store
from pustula.store.extract import StudyData, read_study

__all__ = [
    "Report",
    "build_report",
    "render_html",
    "render_pdf",
    "report_from_analysis",
    "write_report",
]

SYNTHETIC_NOTICE = (
    "The data in this report are SYNTHETIC. They were chosen to reproduce the published "
    "aggregates of the tofacitinib case series (Xu et al. 2023, doi:10.2147/IDR.S421299) "
    "and are not patient data."
)

IMPUTATION_TEXT = {
    "OC": "Observed cases: subjects without a value at a visit are left out of that visit's "
    "denominator.",
    "LOCF": "Last observation carried forward: a missed post-baseline visit takes the subject's "
    "last observed value (DTYPE = LOCF).",
    "NRI": "Non-responder imputation: a subject with a baseline but no value at a visit counts as "
    "a non-responder there (DTYPE = NRI).",
}


@dataclass(frozen=True)
class Report:
    """What a report shows, already computed; rendering only lays it out."""

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

    @property
    def study(self) -> StudyData:
        return self.analysis.study


def _disposition(analysis: AnalysisData) -> list[tuple[str, int]]:
    s = analysis.study.subjects
    adqs = analysis.adqs
    observed = adqs[(adqs["PARAMCD"] == "PPPASI") & adqs["DTYPE"].isna() & adqs["AVAL"].notna()]
    rows = [
        ("Screened", len(s)),
        ("Screen failures", int((s["status"] == "screen_failure").sum())),
        ("Enrolled", int((analysis.adsl["ENRLFL"] == "Y").sum())),
        ("Dosed (safety set)", int((analysis.adsl["SAFFL"] == "Y").sum())),
    ]
    rows += [
        (f"PPPASI observed at {label}", int((observed["VISITCD"] == code).sum()))
        for code, label, _ in analysis.visits
    ]
    return rows


def _methods(analysis: AnalysisData) -> list[str]:
    st = analysis.settings
    protocol = analysis.study.protocol
    base = protocol.baseline_visit
    imputation = IMPUTATION_TEXT[st.imputation]
    cut_text = (
        "a reduction from baseline of at least"
        if st.operator == ">="
        else "a reduction of more than"
    )
    pga = "PPP PGA response is a grade of 0 (clear) or 1 (almost clear)"
    if st.pga_baseline_min is not None:
        pga += f", analysed in subjects with baseline PGA ≥ {st.pga_baseline_min}"
    if st.pga_min_improvement is not None:
        pga += f", with at least {st.pga_min_improvement} grades of improvement"
    return [
        f"Baseline is the last non-missing value on or before the first dose (planned at visit "
        f"{base.label}). Change is CHG = AVAL − BASE and PCHG = 100 × CHG / BASE.",
        f"PPPASI{'/'.join(str(c) for c in st.cutoffs)} response is {cut_text} the cut-off "
        f"(operator {st.operator}). Comparisons are exact on the PPPASI's one-decimal scale.",
        pga + ".",
        f"Missing data: {imputation}",
        f"Confidence intervals: {CI_METHOD_NAMES[st.ci_method]}, two-sided "
        f"{100 * (1 - st.alpha):g}%. Bayesian summaries use a Beta({st.posterior_prior[0]:g}, "
        f"{st.posterior_prior[1]:g}) prior for the response rate and report P(rate > 50%).",
        "Change from baseline is tested with the two-sided Wilcoxon signed-rank test (exact where "
        "possible); with very small n its p-value is descriptive only.",
        "Adverse events are counted as subjects, not events, by MedDRA SOC and PT as coded; "
        "treatment-emergent means starting on or after the first dose day, or worsening on "
        "treatment. Severity is the CTCAE v5.0 grade; seriousness follows ICH E2A and is a "
        "separate field.",
        "Lab alerts follow the protocol's rules; CTCAE grades are given for ALT/AST and "
        "neutrophils on treatment.",
    ]


def _reproducibility(analysis: AnalysisData) -> dict[str, str]:
    versions = analysis.adqs.dropna(subset=["INSTVER"]).groupby("PARAMCD")["INSTVER"].unique()
    instruments = "; ".join(f"{k} {', '.join(map(str, v))}" for k, v in versions.items())
    current = ", ".join(f"{n} {get_instrument(n).version}" for n in ("pppasi", "pga"))
    return {
        "Pustula version": __version__,
        "Instrument versions in the data": instruments or "none",
        "Instrument versions of this Pustula": current,
        "Protocol": f"{analysis.study.protocol.id} version {analysis.study.protocol.version}",
        "Data snapshot (SHA-256)": analysis.study.snapshot_hash(),
    }


def build_report(
    data: StudyData, settings: AnalysisSettings | None = None, *, figures: bool = True
) -> Report:
    """Compute everything the report shows (``figures=False`` leaves the figures out)."""
    return report_from_analysis(build_analysis(data, settings), figures=figures)


def report_from_analysis(analysis: AnalysisData, *, figures: bool = True) -> Report:
    """The report of an analysis already built (see :func:`build_report`)."""
    data = analysis.study
    ard = build_ard(analysis)
    labels = [label for _, label, _ in analysis.visits]
    n = int((analysis.adsl["SAFFL"] == "Y").sum())
    st = analysis.settings
    report_tables = {
        "Baseline characteristics": tables.baseline_table(ard),
        "PPPASI by visit": tables.efficacy_table(ard, labels),
        "PPPASI responders by visit": tables.responder_table(ard, labels, st.cutoffs, st.operator),
        "PPP PGA by visit": tables.pga_table(ard, labels),
        "Adverse events: overview": tables.ae_overview_table(ard, n),
        "Adverse events by SOC and PT": tables.ae_soc_pt_table(ard, n),
        "Lab alerts and worst CTCAE grade": tables.lab_table(ard, n),
    }
    return Report(
        analysis=analysis,
        ard=ard,
        endpoints=compute_endpoints(analysis),
        tables=report_tables,
        figures=all_figures(analysis) if figures else [],
        disposition=_disposition(analysis),
        methods=_methods(analysis),
        reproducibility=_reproducibility(analysis),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        notes=[SYNTHETIC_NOTICE] if data.synthetic else [],
    )


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
        "pct": lambda v: "NE" if v is None else f"{100 * v:.1f}",
        "for_pdf": for_pdf,
    }


def render_html(report: Report, *, for_pdf: bool = False) -> str:
    return _ENV.get_template("report.html.j2").render(**_context(report, for_pdf=for_pdf))


def render_pdf(report: Report) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_html(report, for_pdf=True)).write_pdf()
    return pdf


def write_report(
    store: Store,
    out: str | Path,
    *,
    study: str | None = None,
    settings: AnalysisSettings | None = None,
    fmt: Literal["html", "pdf"] | None = None,
) -> Path:
    """Build the report of ``study`` and write it as HTML or PDF (by suffix or ``fmt``)."""
    path = Path(out)
    kind = fmt or ("pdf" if path.suffix.lower() == ".pdf" else "html")
    report = build_report(read_study(store, study), settings)
    if kind == "pdf":
        path.write_bytes(render_pdf(report))
    else:
        path.write_text(render_html(report), encoding="utf-8")
    return path
