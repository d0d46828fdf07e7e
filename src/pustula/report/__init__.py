"""Study reports in HTML (Jinja2) and PDF (WeasyPrint), from the analysis package."""

from pustula.report.build import (
    Report,
    build_report,
    render_html,
    render_pdf,
    report_from_analysis,
    write_report,
)

__all__ = [
    "Report",
    "build_report",
    "render_html",
    "render_pdf",
    "report_from_analysis",
    "write_report",
]
