"""Writing a study's report to a file: HTML, PDF or Word, and its figures on their own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pustula.analysis.datasets import AnalysisSettings
from pustula.report.build import Report, build_report, render_html, render_pdf
from pustula.report.docx import render_docx
from pustula.store import Store
from pustula.store.transfer.extract import read_study

__all__ = ["SUFFIXES", "ReportFormat", "write_figures", "write_report"]


ReportFormat = Literal["html", "pdf", "docx"]
SUFFIXES: dict[str, ReportFormat] = {
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}


def write_report(
    store: Store,
    out: str | Path,
    *,
    study: str | None = None,
    settings: AnalysisSettings | Mapping[str, Any] | None = None,
    fmt: ReportFormat | None = None,
    figures_dir: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Build the report of ``study`` and write it as HTML, PDF or Word (by suffix or ``fmt``).

    ``settings`` may be a mapping of overrides of the protocol's analysis plan (None values
    keep the plan's). ``figures_dir`` also writes each figure as a vector PDF, an SVG and a
    300-dpi PNG.

    Examples
    --------
    >>> write_report(demo_store(), "report.html").name
    'report.html'
    """
    path = Path(out)
    kind = fmt or SUFFIXES.get(path.suffix.lower(), "html")
    step = progress or (lambda _: None)
    data = read_study(store, study)
    step("study read")
    if settings is not None and not isinstance(settings, AnalysisSettings):
        settings = AnalysisSettings.from_protocol(data.protocol, **settings)
    report = build_report(data, settings)
    step("analysis, tables and figures")
    if kind == "pdf":
        path.write_bytes(render_pdf(report))
    elif kind == "docx":
        path.write_bytes(render_docx(report))
    else:
        path.write_text(render_html(report), encoding="utf-8")
    step(f"{kind.upper()} written")
    if figures_dir is not None:
        write_figures(report, Path(figures_dir))
    return path


def write_figures(report: Report, folder: Path) -> list[Path]:
    """Each figure as ``figure-N-key.pdf`` (vector), ``.svg`` and ``.png`` (300 dpi).

    Examples
    --------
    >>> from pathlib import Path
    >>> from pustula.report import report_from_analysis
    >>> report = report_from_analysis(demo_analysis())
    >>> sorted({path.suffix for path in write_figures(report, Path("figures"))})
    ['.pdf', '.png', '.svg']
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number, figure in enumerate(report.figures, start=1):
        stem = folder / f"figure-{number}-{figure.key}"
        for suffix, content in ((".pdf", figure.pdf), (".png", figure.png)):
            written.append(stem.with_suffix(suffix))
            written[-1].write_bytes(content)
        written.append(stem.with_suffix(".svg"))
        written[-1].write_text(figure.svg, encoding="utf-8")
    return written
