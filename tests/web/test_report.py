"""The study report in the app: its way back, its downloads and the analysis options form.

Expected intervals come from scipy's beta quantiles (Clopper–Pearson), not from Pustula.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scipy.stats import beta

from pustula.store import Store


def _options_panel(page: str) -> str:
    panel = re.search(r'<section class="analysis-options".*?</section>', page, re.S)
    assert panel, "no analysis options on the report page"
    return panel.group()


def _endpoint_row(page: str, endpoint: str) -> list[str]:
    row = re.search(rf"<tr><td>{endpoint}</td>(.*?)</tr>", page)
    assert row, f"no row for {endpoint}"
    return re.findall(r"<td>([^<]*)</td>", row.group(1))


def test_the_options_form_shows_what_the_analysis_plan_fixes(
    login: Callable[[str], TestClient],
) -> None:
    panel = _options_panel(login("statistician").get("/report").text)
    assert "Analysis options:</span>\nthe protocol's analysis plan" in panel
    assert "<details open" not in panel  # nothing to see at once when the plan is followed
    hint = re.search(r'id="opt-imputation-plan">\s*(.*?)\s*</p>', panel, re.S)
    assert hint and hint.group(1) == "Fixed by the analysis plan: Observed cases only"
    hint = re.search(r'id="opt-pga_baseline_min-plan">\s*(.*?)\s*</p>', panel, re.S)
    assert hint and hint.group(1) == "Not in the analysis plan; Pustula's default: Every subject"
    # every option's current value is the plan's
    assert re.search(r'<option value="0.05" selected>95%</option>', panel)
    assert re.search(r'<option value="OC" selected>Observed cases only</option>', panel)


def test_a_changed_option_makes_the_report_a_sensitivity_analysis(
    login: Callable[[str], TestClient],
) -> None:
    client = login("statistician")
    page = client.get("/report?alpha=0.1&imputation=OC&operator=%3E%3D").text
    # only the option that differs from the plan counts, and the report says so
    assert "departs from the protocol&#39;s analysis plan. Confidence level: 90% (the plan: " \
           "95%)." in page  # fmt: skip
    assert "a sensitivity analysis, 1 change from the protocol" in _options_panel(page)
    assert re.search(r'<option value="0.1" selected>90%</option>', page)
    # PPPASI80 at week 4 is 3/6: the two-sided 90% Clopper–Pearson interval, from scipy
    low, high = beta.ppf(0.05, 3, 4), beta.ppf(0.95, 4, 3)
    assert _endpoint_row(page, "PPPASI80_W4")[4] == f"{100 * low:.1f}–{100 * high:.1f}"
    assert f"{100 * low:.1f}–{100 * high:.1f}" == "15.3–84.7"  # the 90% interval, by hand
    # the downloads carry the same options
    assert 'href="/report.pdf?alpha=0.1"' in page and 'href="/report.docx?alpha=0.1"' in page


def test_the_word_download_with_options_says_it_is_a_sensitivity_analysis(
    login: Callable[[str], TestClient],
) -> None:
    from docx import Document

    client = login("statistician")
    text = "\n".join(p.text for p in Document(io.BytesIO(
        client.get("/report.docx?imputation=NRI").content)).paragraphs)  # fmt: skip
    assert "Missing data: Missing counts as non-response (the plan: Observed cases only)" in text
    plan = "\n".join(p.text for p in Document(io.BytesIO(
        client.get("/report.docx").content)).paragraphs)  # fmt: skip
    assert "Sensitivity analysis" not in plan


def test_a_value_that_is_no_choice_is_said_at_its_option_and_the_plan_is_shown(
    login: Callable[[str], TestClient],
) -> None:
    client = login("statistician")
    answer = client.get("/report?imputation=mean&alpha=0.1")
    assert answer.status_code == 400
    panel = _options_panel(answer.text)
    assert "<details open" in panel
    assert 'id="opt-imputation-error">Missing data: choose one of the listed options.' in panel
    assert "the report below follows the analysis plan" in panel
    assert "Sensitivity analysis" not in answer.text  # the alpha is not half-applied
    refused = client.get("/report.pdf?imputation=mean")
    assert refused.status_code == 422 and "Traceback" not in refused.text
    assert "Missing data: choose one of the listed options." in refused.text


def test_the_report_is_built_again_only_when_the_data_or_the_sites_seen_change(
    login: Callable[[str], TestClient], web_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collections import OrderedDict
    from datetime import date

    from pustula.store.services.clinical import add_subject_record
    from pustula.web import views

    builds: list[tuple[str, ...]] = []

    def counted(store: Store, principal: Any, choices: Any = ()) -> Any:
        builds.append(principal.sites)  # the figures left out: seconds each, not at stake
        return views.build_report(views.study_for(store, principal), figures=False)

    monkeypatch.setattr(views, "report_for", counted)
    monkeypatch.setattr(views, "_REPORTS", OrderedDict())
    statistician = login("statistician")
    first = statistician.get("/report")
    assert first.status_code == 200 and "Herpes zoster" not in first.text
    assert statistician.get("/report").content == first.content  # kept, not drawn again
    assert statistician.get("/report.pdf").content.startswith(b"%PDF")
    assert builds == [("*",)]
    login("investigator").get("/report")  # other sites seen: a report of its own
    assert builds == [("*",), ("SITE1", "SITE2")]
    add_subject_record(web_store, "investigator", "ae", "S01", {
        "term": "Shingles", "meddra_pt": "Herpes zoster", "meddra_pt_code": "10019974",
        "meddra_soc": "Infections and infestations", "meddra_soc_code": "10021881",
        "start_date": date(2024, 4, 1), "grade": 2, "relatedness": "possible",
        "action_taken": "none", "outcome": "recovering"})  # fmt: skip
    after = statistician.get("/report")
    assert len(builds) == 3 and "Herpes zoster" in after.text  # the save is in it at once


def test_the_report_in_the_app_leads_back_and_downloads_pdf_and_word(
    login: Callable[[str], TestClient],
) -> None:
    from docx import Document

    client = login("statistician")
    page = client.get("/report").text
    nav = re.search(r'<nav class="app-nav" aria-label="Pustula">(.*?)</nav>', page, re.S)
    assert nav and all(f'href="{href}"' in nav.group(1)
                       for href in ("/", "/report.pdf", "/report.docx"))  # fmt: skip
    assert "<main>" in page and page.index("</nav>") < page.index("<main>")  # landmarks
    word = client.get("/report.docx")
    assert word.status_code == 200 and word.headers["content-disposition"].endswith('.docx"')
    text = "\n".join(p.text for p in Document(io.BytesIO(word.content)).paragraphs)
    assert "SYNTHETIC" in text.upper()
    pdf = client.get("/report.pdf")
    assert pdf.content[:5] == b"%PDF-"
