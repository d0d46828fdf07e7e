"""The report: HTML and a real PDF whose text holds the tables, methods and notices."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from pustula.analysis.datasets import AnalysisSettings
from pustula.demo import create_demo_study
from pustula.report import build_report, render_html, write_report
from pustula.store import Store
from pustula.store.transfer.extract import read_study


@pytest.fixture
def demo(sqlite_store: Store) -> Store:
    create_demo_study(sqlite_store)
    return sqlite_store


def test_the_pdf_holds_what_a_paper_draft_needs(demo: Store, tmp_path: Path) -> None:
    path = write_report(demo, tmp_path / "report.pdf")
    reader = PdfReader(BytesIO(path.read_bytes()))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "SYNTHETIC" in text
    for needle in ("Subjects and analysis populations", "Baseline characteristics", "PPPASI by visit", "PPPASI responders by visit",
                   "PPP PGA by visit", "Adverse events by SOC and PT", "Lab alerts",
                   "Methods", "Reproducibility", "Clopper–Pearson exact",
                   "Observed cases", "5/6 (83.3%) 35.9–99.6", "6/6 (100.0%) 54.1–100.0",
                   "Nasopharyngitis", "Data snapshot (SHA-256)"):  # fmt: skip
        assert needle in text, needle
    assert len(reader.pages) >= 4


def test_the_methods_follow_the_settings(demo: Store) -> None:
    settings = AnalysisSettings.build(
        operator=">", imputation="NRI", ci_method="wilson", pga_baseline_min=3, alpha=0.1
    )
    html = render_html(build_report(read_study(demo), settings))
    assert "Non-responder imputation" in html
    assert "Wilson score" in html
    assert "a reduction from baseline of more than the cut-off (&gt;)" in html
    assert "baseline PGA ≥ 3" in html
    # the level is built from alpha everywhere: no "95%" label over 90% limits
    assert "90% CI" in html and "95% CI" not in html


def test_a_report_off_the_analysis_plan_says_it_is_a_sensitivity_analysis(demo: Store) -> None:
    on_plan = build_report(read_study(demo), figures=False)
    assert not any("Sensitivity analysis" in n for n in on_plan.notes)
    assert on_plan.reproducibility["Analysis plan"] == "followed as the protocol states it"
    off_plan = build_report(read_study(demo), AnalysisSettings.build(imputation="LOCF"),
                            figures=False)  # fmt: skip
    departure = "Missing data: Last post-baseline value carried forward (the plan: Observed " \
                "cases only)"  # fmt: skip
    assert any(departure in n for n in off_plan.notes)
    assert off_plan.reproducibility["Analysis plan"] == departure


def test_html_has_inline_svg_and_no_external_assets(demo: Store, tmp_path: Path) -> None:
    html = write_report(demo, tmp_path / "report.html").read_text()
    # the flow diagram, five figures, and the forest plot of the one endpoint with published
    # results to stand beside (PPPASI50 at week 4)
    assert html.count("<svg") == 7
    # namespace URIs (xmlns, rdf:resource) are names, not downloads; nothing is fetched
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_an_empty_table_reads_none_not_headers_over_nothing(demo: Store) -> None:
    report = build_report(read_study(demo), figures=False)
    name = "Visits outside their protocol window"
    assert not report.tables[name].empty  # S05's week 12, day 93 (window ±7 around 84)
    report.tables[name] = report.tables[name].iloc[0:0]  # as in a study without such visits

    shown = render_html(report).split(name, 1)[1].split("Table ", 1)[0]

    assert '<p class="none">None.</p>' in shown
    assert "<th>" not in shown
