"""The hand-made study of ``edge_study``: every expected number is derived by hand here.

FAS = the five dosed subjects with a baseline PPPASI (E1–E5); E6 was never dosed.
Reductions: E1 −50.0 % at W4 and −80.0 % at W12 (exact cut-offs); E3 −90 % at W12;
E4 −20 % at W2 then drops out; E5 −60 % at W4 and −90 % at W12 on day 93 (window 77–91).
E2 has a baseline of 0.
"""

from __future__ import annotations

import pytest

from pustula.analysis import build_analysis, compute_endpoints
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.plots import all_figures
from pustula.analysis.settings import AnalysisSettings
from pustula.store import Store
from pustula.store.transfer.extract import read_study
from tests.analysis.edge_study import build_edge_study


@pytest.fixture(scope="module")
def edge_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = tmp_path_factory.mktemp("edge") / "edge.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    build_edge_study(store)
    return store


def analyse(store: Store, **overrides: object) -> AnalysisData:
    data = read_study(store)
    return build_analysis(data, AnalysisSettings.from_protocol(data.protocol, **overrides))


def counts(store: Store, **overrides: object) -> dict[str, tuple[int, int, int]]:
    """endpoint -> (responders, N, not evaluable)"""
    return {
        e.endpoint: (e.responders, e.n, e.not_evaluable)
        for e in compute_endpoints(analyse(store, **overrides))
    }


def test_the_populations_leave_out_the_undosed_subject(edge_store: Store) -> None:
    adsl = analyse(edge_store).adsl.set_index("SUBJID")
    assert adsl.loc["E6", ["ENRLFL", "SAFFL", "FASFL"]].tolist() == ["Y", "N", "N"]
    assert (adsl["FASFL"] == "Y").sum() == 5
    spaghetti = all_figures(analyse(edge_store))[0]
    assert set(spaghetti.data["SUBJID"]) == {"E1", "E2", "E3", "E4", "E5"}  # never 6 lines


def test_observed_cases_with_at_least_the_cut_off(edge_store: Store) -> None:
    assert counts(edge_store) == {
        # W4, 50 %: E1 (50.0 ≥ 50) Y, E5 (60) Y; E2 baseline 0, E3 missed, E4 gone: 2/2, 3 out
        "PPPASI50_W4": (2, 2, 3),
        # W4, 80 %: E1 50 and E5 60 fall short: 0/2
        "PPPASI80_W4": (0, 2, 3),
        # W12: E1 (80.0), E3 (90), E5 (90, late but nominal) all ≥ 80: 3/3; E2 and E4 out
        "PPPASI50_W12": (3, 3, 2),
        "PPPASI80_W12": (3, 3, 2),
        # PGA 0/1 at W12: E1 1, E2 0, E3 0, E5 1: 4/4; E4 has none
        "PGA01_W12": (4, 4, 1),
    }


def test_more_than_the_cut_off_drops_the_exact_reductions(edge_store: Store) -> None:
    strict = counts(edge_store, operator=">")
    assert strict["PPPASI50_W4"] == (1, 2, 3)  # E1's 50.0 % is not > 50
    assert strict["PPPASI80_W12"] == (2, 3, 2)  # E1's 80.0 % is not > 80


def test_a_baseline_of_zero_is_never_a_responder(edge_store: Store) -> None:
    analysis = analyse(edge_store)
    e2 = analysis.adqs[(analysis.adqs["SUBJID"] == "E2") & (analysis.adqs["PARAMCD"] == "PPPASI")]
    flags = e2.filter(regex=r"^CRIT\dFL$").stack().tolist()
    assert flags == []  # not evaluable: no flag at any cut-off, so never in a denominator
    # the alternative counts E2 as a non-responder: W4 50 % becomes 2/3
    assert counts(edge_store, baseline_zero="non_responder")["PPPASI50_W4"] == (2, 3, 2)


def test_nri_counts_the_missed_visit_and_the_dropout_as_non_responders(edge_store: Store) -> None:
    nri = counts(edge_store, imputation="NRI")
    # W4, 50 %: E1 Y, E3 N (missed), E4 N (dropout), E5 Y; E2 still not evaluable: 2/4
    assert nri["PPPASI50_W4"] == (2, 4, 1)
    # W12, 80 %: E1 Y, E3 Y, E4 N, E5 Y: 3/4
    assert nri["PPPASI80_W12"] == (3, 4, 1)
    # PGA 0/1 at W12: E1, E2, E3, E5 Y; E4 N: 4/5 — the PGA table must say the same
    assert nri["PGA01_W12"] == (4, 5, 0)


def test_the_pga_baseline_minimum_applies_to_the_endpoint(edge_store: Store) -> None:
    # E2's baseline PGA is 2, so it leaves: OC 3/3 (E1, E3, E5), NRI 3/4 (E4 imputed N)
    assert counts(edge_store, pga_baseline_min=3)["PGA01_W12"] == (3, 3, 2)
    assert counts(edge_store, pga_baseline_min=3, imputation="NRI")["PGA01_W12"] == (3, 4, 1)


def test_a_late_visit_is_flagged_or_left_out_as_the_plan_says(edge_store: Store) -> None:
    nominal = analyse(edge_store)
    late = nominal.out_of_window.drop_duplicates(["USUBJID", "VISITCD"])
    assert late[["SUBJID", "VISITCD", "AWTDIFF"]].values.tolist() == [["E5", "W12", 9]]
    windowed = counts(edge_store, visit_windows="protocol")
    assert windowed["PPPASI80_W12"] == (2, 2, 3)  # E5's day-93 value is left out
    assert counts(edge_store, visit_windows="protocol", imputation="NRI")["PPPASI80_W12"] == (
        2,
        4,
        1,
    )  # and imputed as a non-responder under NRI


def test_the_wilcoxon_test_drops_zeros_and_handles_ties(edge_store: Store) -> None:
    from pustula.analysis.ard import build_ard

    ard = build_ard(analyse(edge_store))
    w12 = ard[(ard["table"] == "wilcoxon") & (ard["group"] == "Week 12")]
    stats = dict(zip(w12["stat"], w12["value"], strict=True))
    # CHG at W12: E1 −8, E2 0, E3 −9, E5 −9. Zero dropped: ranks 1, 2.5, 2.5, all negative.
    # Of the 2³ sign patterns only all-negative and all-positive are as extreme: p = 2/8.
    assert (stats["n"], stats["n_nonzero"], stats["statistic"]) == (4, 3, 0.0)
    assert stats["p"] == pytest.approx(0.25)
    assert stats["smallest_p"] == pytest.approx(0.25)


def test_the_flow_diagram_counts_each_stage_and_who_left(edge_store: Store) -> None:
    from pustula.report import build_report

    report = build_report(read_study(edge_store))
    flow = next(f for f in report.figures if f.key == "flow").data
    assert flow[["stage", "n"]].values.tolist() == [
        ["Screened", 6], ["Enrolled", 6], ["Dosed (safety set)", 5], ["Full analysis set", 5],
        ["Attended Week 12", 4],  # E4 dropped out after week 2
        ["Screen failures or not enrolled", 0], ["Enrolled, never dosed", 1],  # E6
        ["No baseline PPPASI", 0], ["Did not attend Week 12 (withdrawn: 0)", 1],
    ]  # fmt: skip


def test_the_waterfall_is_drawn_at_the_latest_visit_with_data(tmp_path) -> None:
    """A study whose subjects have reached week 2 only: the waterfall is at week 2, not
    at an empty week 12 (before, "Week 12 waterfall" with no bars); with no
    post-baseline value at all there is no waterfall."""
    from datetime import timedelta

    from pustula.analysis.plots import waterfall_visit
    from pustula.store import get_subject, record_visit
    from tests.store.helpers import FIRST_DOSE, enrol, make_study, pppasi

    store = Store.open(f"sqlite:///{tmp_path / 'early.sqlite3'}")
    store.create_schema()
    study = make_study(store)
    enrol(store, study, "A1")
    with store.transaction(user="tester") as tx:
        record_visit(tx, study, get_subject(tx.session, study, "A1"), visit_code="W0",
                     visit_date=FIRST_DOSE, assessments={"pppasi": pppasi(2, 2, 1, 20)})  # fmt: skip
    assert waterfall_visit(analyse(store)) is None
    assert "waterfall" not in [f.key for f in all_figures(analyse(store))]
    with store.transaction(user="tester") as tx:
        record_visit(tx, study, get_subject(tx.session, study, "A1"), visit_code="W2",
                     visit_date=FIRST_DOSE + timedelta(days=14),
                     assessments={"pppasi": pppasi(2, 2, 1, 5)})  # fmt: skip
    figures = {f.key: f for f in all_figures(analyse(store))}
    assert figures["waterfall"].title == "Waterfall of PPPASI % change at Week 2"
    assert list(figures["waterfall"].data["PCHG"]) == [-50.0]  # 10.0 → 5.0 by hand
