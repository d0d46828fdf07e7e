"""The report's tables and figures as a Word document, numbered as a journal expects.

Tables come first (Table 1, Table 2, …, each with its title above), then figures (Figure 1,
…, each with its legend below, from the 300-dpi PNG), then the methods and the CARE
checklist: what a journal's submission system asks for as a separate file.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from docx import Document
from docx.document import Document as DocumentObject
from docx.shared import Inches, Pt

from pustula.analysis.ci import CI_METHOD_NAMES
from pustula.report.build import Report

__all__ = ["render_docx", "write_docx"]


def _table(doc: DocumentObject, frame: pd.DataFrame) -> None:
    if frame.empty:
        doc.add_paragraph("None.")
        return
    table = doc.add_table(rows=1, cols=len(frame.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, frame.columns, strict=True):
        cell.text = str(name)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in frame.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            text = "" if value is None else str(value)
            cell.text = text.strip()
            if text.startswith("    "):
                cell.paragraphs[0].paragraph_format.left_indent = Pt(12)


def _endpoints(report: Report) -> pd.DataFrame:
    level = report.analysis.settings.level_label
    rows = [
        (e.endpoint, e.definition, e.visit, f"{e.responders}/{e.n}", report.pct(e.rate),
         f"{report.pct(e.ci_low)}–{report.pct(e.ci_high)}", e.not_evaluable,
         f"{CI_METHOD_NAMES[e.method]}, {e.imputation}")
        for e in report.endpoints
    ]  # fmt: skip
    columns = ["Endpoint", "Definition", "Visit", "Responders/N", "Rate, %", f"{level}, %",
               "Not evaluable", "Method"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def render_docx(report: Report) -> bytes:
    """The Word document's bytes."""
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10)
    doc.add_heading(report.study.protocol.title, level=1)
    doc.add_paragraph(f"Study {report.study.code} · report generated {report.generated_at}")
    for note in report.notes:
        doc.add_paragraph().add_run(note).bold = True
    numbered = {"Endpoints": _endpoints(report), **report.tables}
    for number, (title, frame) in enumerate(numbered.items(), start=1):
        doc.add_paragraph().add_run(f"Table {number}. {title}").bold = True
        _table(doc, frame)
    for number, figure in enumerate(report.figures, start=1):
        doc.add_picture(io.BytesIO(figure.png), width=Inches(6.3))
        legend = doc.add_paragraph()
        legend.add_run(f"Figure {number}. {figure.title}. ").bold = True
        legend.add_run(figure.caption)
    doc.add_heading("Methods", level=2)
    for text in report.methods:
        doc.add_paragraph(text, style="List Bullet")
    name, items = ("CONSORT 2010", report.trial.checklist) if report.trial else (
        "CARE", report.care)  # fmt: skip
    doc.add_heading(f"{name} checklist", level=2)
    _table(doc, pd.DataFrame(items, columns=["Item", f"What {name.split()[0]} asks",
                                             "Where answered"]))  # fmt: skip
    for note in report.notes:
        doc.add_paragraph().add_run(note).bold = True
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def write_docx(report: Report, path: Path) -> Path:
    path.write_bytes(render_docx(report))
    return path
