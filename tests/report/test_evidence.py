"""The report's comparison with published results and its proposal for the next study."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from pustula.analysis.datasets import AnalysisSettings, build_analysis
from pustula.analysis.endpoints import compute_endpoints
from pustula.demo import create_demo_study
from pustula.design import simon_designs
from pustula.evidence.meta import escalc, rma
from pustula.evidence.plots import ForestRow
from pustula.report.evidence import _pooled_caption, _verdict, compare_endpoints, next_study
from pustula.store import Store
from pustula.store.transfer.extract import read_study


@pytest.fixture
def demo(sqlite_store: Store) -> Store:
    create_demo_study(sqlite_store)
    return sqlite_store


def _by_endpoint(store: Store, settings: AnalysisSettings | None = None) -> dict:
    analysis = build_analysis(read_study(store), settings)
    return {c.endpoint: c for c in compare_endpoints(analysis, compute_endpoints(analysis))}


def test_only_rows_with_the_same_definition_and_window_are_compared(demo: Store) -> None:
    found = _by_endpoint(demo)
    # ≥ 50% at week 4: the tofacitinib series (row 1a), not the week-16/24 trials
    assert list(found["PPPASI50_W4"].published["row"]) == ["1a"]
    assert found["PPPASI50_W4"].pooled is None  # one study is not pooled
    # the series' 80% cut-off is "more than" (>): not comparable with this plan's ≥
    assert found["PPPASI80_W12"].published.empty
    assert found["PPPASI80_W12"].figure is None


def test_the_operator_of_the_plan_decides_comparability(demo: Store) -> None:
    found = _by_endpoint(demo, AnalysisSettings.build(operator=">"))
    assert list(found["PPPASI80_W4"].published["row"]) == ["1b"]
    assert list(found["PPPASI80_W12"].published["row"]) == ["1c"]


def test_the_verdict_places_the_study_against_the_prediction_interval() -> None:
    pooled = rma(escalc("PLO", [13, 33, 20], [21, 50, 28]), "REML")
    inside = ForestRow("x", (pooled.pi_low + pooled.pi_high) / 2, 0, 1, ours=True)
    above = ForestRow("x", min(1.0, pooled.pi_high + 0.01), 0, 1, ours=True)
    three = pd.DataFrame({"study": ["A", "B", "C"]})
    assert "lies inside the 95% prediction interval" in _verdict(inside, pooled, three, "95%")
    assert "lies above" in _verdict(above, pooled, three, "95%")
    none = pd.DataFrame({"study": []})
    assert _verdict(inside, None, none, "95%").startswith("No comparable published result")


def test_an_unpooled_verdict_says_why() -> None:
    ours = ForestRow("x", 0.5, 0, 1, ours=True)
    one, twice = pd.DataFrame({"study": ["A"]}), pd.DataFrame({"study": ["A", "A"]})
    assert _verdict(ours, None, one, "95%") == (
        "One comparable published result with counts: the study is shown beside it; a single "
        "result is not pooled.")  # fmt: skip
    # two results of one study: not "too few", but not independent
    assert _verdict(ours, None, twice, "95%") == (
        "2 comparable published results with counts, but one study gives more than one of "
        "them: not pooled, so the study is shown beside them only.")  # fmt: skip


def test_the_next_study_comes_from_the_primary_endpoints_posterior(demo: Store) -> None:
    analysis = build_analysis(read_study(demo))
    proposal = next_study(analysis, compute_endpoints(analysis))
    assert proposal is not None
    # primary endpoint PPPASI50 at week 4: 6 of 6, uniform prior -> Beta(7, 1);
    # its 20th percentile is 0.2 ** (1/7) = 0.7946 -> p1 0.79, p0 0.59
    assert proposal.posterior == (7, 1)
    assert stats.beta.ppf(0.2, 7, 1) == pytest.approx(0.2 ** (1 / 7))
    assert (proposal.p1, proposal.p0) == (0.79, 0.59)
    assert proposal.simon == simon_designs(0.59, 0.79, 0.05, 0.80)
    assert "6 of 6 responded" in proposal.reasoning


def test_the_captions_name_each_interval_once_at_the_plans_level(demo: Store) -> None:
    found = _by_endpoint(demo, AnalysisSettings.build(alpha=0.1))
    caption = found["PPPASI50_W4"].figure.caption
    assert "(exact 90% CI)" in caption
    assert "CI CI" not in caption and "95%" not in caption


def test_a_caption_names_only_what_its_plot_draws(demo: Store) -> None:
    # one published result at week 4 (row 1a): no grey diamond, no prediction interval
    caption = _by_endpoint(demo)["PPPASI50_W4"].figure.caption
    assert caption.endswith("Not pooled: a single published result.")
    assert "Grey diamond" not in caption and "prediction interval" not in caption
    pooled = rma(escalc("PLO", [13, 33, 20], [21, 50, 28]), "REML")
    three = pd.DataFrame({"study": ["A", "B", "C"]})
    assert "dashed line: 90% prediction interval" in _pooled_caption(pooled, three, "90%")
    twice = pd.DataFrame({"study": ["A", "A"]})
    assert (
        _pooled_caption(None, twice, "95%")
        == "Not pooled: one study gives more than one of the results."
    )
