"""The randomized demo trial's report (SYNTHETIC): the unblinded report's numbers agree in
HTML, PDF, Word and the ADaM datasets; the CONSORT flow adds up; the blinded report names
no arm anywhere."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyreadstat
import pytest
from docx import Document
from pypdf import PdfReader

from pustula.demo_trial import create_trial_study
from pustula.interop.cdisc import cdisc_package
from pustula.report.build import Report, build_report, render_html, render_pdf
from pustula.report.docx import render_docx
from pustula.store import Store
from pustula.store.transfer.extract import read_study

ARM_WORDS = ("Tofacitinib 5 mg twice daily", "Placebo twice daily", "TOFA5", "PLCB")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('r') / 'trial.sqlite3'}")
    store.create_schema()
    create_trial_study(store)
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def unblinded(store: Store) -> Report:
    return build_report(read_study(store, arms=True))


def _pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(
        io.BytesIO(pdf)).pages)  # fmt: skip


def _docx_text(docx: bytes) -> str:
    doc = Document(io.BytesIO(docx))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return " ".join([p.text for p in doc.paragraphs] + cells)


def test_every_binary_endpoint_reads_the_same_in_html_pdf_word_and_adam(
    store: Store, unblinded: Report, tmp_path: Path
) -> None:
    assert unblinded.trial is not None
    table = unblinded.tables["Binary endpoints by arm (intention to treat)"].set_index("Endpoint")
    html = render_html(unblinded)
    pdf = _pdf_text(render_pdf(unblinded))
    word = _docx_text(render_docx(unblinded))
    # the ADaM datasets a statistician would take to R give the same counts
    cdisc_package(store, read_study(store, arms=True), "adam", tmp_path)
    adsl, _ = pyreadstat.read_xport(str(tmp_path / "adsl.xpt"))
    adqs, _ = pyreadstat.read_xport(str(tmp_path / "adqs.xpt"))
    itt = adsl[adsl["ITTFL"] == "Y"]
    analysis = unblinded.analysis
    endpoints = {e.id: e for e in analysis.study.protocol.endpoints}
    for b in unblinded.trial.analysis.binary:
        c = b.comparison
        row = table.loc[b.label]
        treated = row["Tofacitinib 5 mg twice daily, n/N (%; 95% CI)"]
        assert treated.startswith(f"{c.treated.x}/{c.treated.n} ")
        for cell in (treated, row["Placebo twice daily, n/N (%; 95% CI)"],
                     row["Difference, points (95% CI)"]):  # fmt: skip
            for name, text in (("HTML", html), ("PDF", pdf), ("Word", word)):
                # a PDF table wraps a cell across lines: compare without the spaces
                assert cell.replace(" ", "") in text.replace(" ", ""), (b.endpoint, name, cell)
        e = endpoints[b.endpoint]
        crit = f"CRIT{analysis.crit(e.threshold) if e.threshold else analysis.pga_crit}FL"
        at = adqs[(adqs["PARAMCD"] == ("PGA" if e.kind == "pga_0_1" else "PPPASI"))
                  & (adqs["VISITCD"] == e.visit)]  # fmt: skip
        responders = set(at.loc[at[crit] == "Y", "USUBJID"])
        for arm, (x, n) in (("TOFA5", (c.treated.x, c.treated.n)),
                            ("PLCB", (c.control.x, c.control.n))):  # fmt: skip
            subjects = itt.loc[itt["ARMCD"] == arm, "USUBJID"]
            assert (int(subjects.isin(responders).sum()), len(subjects)) == (x, n), b.endpoint


def test_each_subject_outside_a_population_is_listed_with_the_reason(unblinded: Report) -> None:
    listing = unblinded.tables["Randomized subjects outside an analysis population, and why"]
    adsl = unblinded.analysis.adsl
    assert len(listing) == int(((adsl["RANDFL"] == "Y") & (adsl["MITTFL"] != "Y")).sum()
                               + ((adsl["RANDFL"] == "Y") & (adsl["PPROTFL"] != "Y")).sum())  # fmt: skip
    t005 = listing[listing["Subject"] == "T005"].set_index("Population")["Reason"]
    assert t005["Per protocol"].startswith("deviation: took fewer study drug doses")


def test_the_consort_flow_adds_up_and_matches_the_populations(unblinded: Report) -> None:
    assert unblinded.trial is not None
    flow = unblinded.trial.flow
    assert flow.problems() == []
    study = unblinded.analysis.study
    assert flow.assessed == len(study.subjects)
    assert flow.randomized == len(study.allocation)
    counts = unblinded.trial.analysis.counts
    for arm in flow.arms:
        assert arm.allocated == counts.loc["Intention to treat", arm.label]
        assert arm.received == counts.loc["Safety set", arm.label]
    excluded = dict(flow.excluded)
    assert excluded["not met: Adult, 18 years or older"] == 3
    figure = next(f for f in unblinded.figures if f.key == "consort_arms")
    drawn = figure.data.set_index(["arm", "stage"])["n"]
    assert drawn[("all", "randomized")] == flow.randomized


def test_the_unblinded_report_carries_the_consort_checklist_not_care(unblinded: Report) -> None:
    html = render_html(unblinded)
    assert 'id="consort-checklist"' in html and "CARE checklist" not in html
    assert "Randomization: 2:1 by permuted blocks" in html


def test_the_blinded_report_names_no_arm_in_any_format(store: Store) -> None:
    blinded = build_report(read_study(store))
    assert blinded.trial is None
    html = render_html(blinded)
    pdf = _pdf_text(render_pdf(blinded))
    word = _docx_text(render_docx(blinded))
    for text in (html, pdf, word):
        assert not [w for w in ARM_WORDS if w in text]
    assert "This report is blinded" in html


def test_mean_change_by_arm_draws_the_observed_means(unblinded: Report) -> None:
    figure = next(f for f in unblinded.figures if f.key == "mean_change_arms")
    analysis = unblinded.analysis
    adqs = analysis.adqs.merge(analysis.adsl[["USUBJID", "ARMCD", "ITTFL"]], on="USUBJID")
    week16 = adqs[(adqs["PARAMCD"] == "PPPASI") & (adqs["VISITCD"] == "W16")
                  & adqs["DTYPE"].isna() & (adqs["ITTFL"] == "Y")]  # fmt: skip
    expected = week16[week16["ARMCD"] == "PLCB"]["PCHG"].mean()
    drawn = figure.data.set_index(["arm", "AVISIT"])
    assert drawn.loc[("Placebo twice daily", "Week 16"), "mean"] == pytest.approx(expected)


def test_a_subject_lost_to_follow_up_is_counted_apart_from_the_discontinued(
    unblinded: Report,
) -> None:
    from dataclasses import replace

    from pustula.report.trial import trial_flow

    assert unblinded.trial is not None
    analysis = unblinded.analysis
    adsl = analysis.adsl.copy()
    stopped = adsl.index[(adsl["WDFL"] == "Y") & (adsl["SAFFL"] == "Y")][0]
    adsl.loc[stopped, "DCSREAS"] = "Lost to follow-up: no answer to three calls"
    flow = trial_flow(replace(analysis, adsl=adsl), unblinded.trial.analysis)
    arm = next(a for a in flow.arms if a.lost)  # the arm of the subject changed above
    before = next(a for a in unblinded.trial.flow.arms if a.label == arm.label)
    assert arm.lost + sum(n for _, n in arm.discontinued) == sum(
        n for _, n in before.discontinued) + before.lost  # fmt: skip
    assert sum(a.lost for a in flow.arms) == 1
    assert flow.problems() == []
