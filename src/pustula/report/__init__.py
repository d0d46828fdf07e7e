"""Study reports in HTML (Jinja2), PDF (WeasyPrint) and Word (python-docx), from the analysis."""

from pustula.report.build import (
    Report,
    build_report,
    render_html,
    render_pdf,
    report_from_analysis,
)
from pustula.report.write import write_figures, write_report

__all__ = [
    "Report",
    "build_report",
    "render_html",
    "render_pdf",
    "report_from_analysis",
    "write_figures",
    "write_report",
]
