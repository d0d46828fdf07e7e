"""The report's view beyond the study: where its endpoints stand among comparable published
results, and how large the next study should be, from the study's own posterior.

*Comparable* means the same index (PPPASI), the same operator and cut-off, a week within
``WINDOW`` weeks of the study's, and an uncontrolled design (single-arm trials, case series,
retrospective cohorts), as the study is; randomised arms are a different stratum. The pooled
estimate leaves the study out, so the study is compared with the evidence, not with itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from scipy import stats

from pustula.analysis.datasets import AnalysisData
from pustula.analysis.endpoints import EndpointResult
from pustula.analysis.plots import Figure_, render_figure
from pustula.design import SimonResult, simon_designs
from pustula.design.single import SingleStageDesign, single_stage
from pustula.errors import PustulaError
from pustula.evidence.meta import MetaResult
from pustula.evidence.plots import ForestRow, forest_plot, proportion_rows
from pustula.evidence.published import UNCONTROLLED, load_published, pool_published, select

__all__ = ["WINDOW", "Comparison", "NextStudy", "compare_endpoints", "next_study", "study_as_rows"]

WINDOW = 4  # weeks either side of the study's own


@dataclass(frozen=True)
class Comparison:
    endpoint: str
    definition: str
    week: float
    ours: ForestRow
    published: pd.DataFrame  # comparable rows with counts
    left_out: list[tuple[str, str]]  # comparable rows without counts, and why
    pooled: MetaResult | None
    figure: Figure_ | None
    verdict: str


def _week(analysis: AnalysisData, visit: str) -> float:
    return analysis.study.protocol.visit(visit).day / 7


def _verdict(ours: ForestRow, pooled: MetaResult | None, counted: pd.DataFrame, label: str) -> str:
    k = len(counted)
    if k == 0:
        return "No comparable published result with a responder count was found."
    if pooled is None:
        if k == 1:
            return ("One comparable published result with counts: the study is shown beside "
                    "it; a single result is not pooled.")  # fmt: skip
        return (
            f"{k} comparable published results with counts, but one study gives more "
            "than one of them: not pooled, so the study is shown beside them only."
        )
    if pooled.pi_low <= ours.estimate <= pooled.pi_high:
        where = "inside"
    else:
        where = "above" if ours.estimate > pooled.pi_high else "below"
    return (f"The study's {ours.estimate:.0%} lies {where} the {label} prediction interval of the "
            f"published results ({pooled.pi_low:.0%} to {pooled.pi_high:.0%}; pooled "
            f"{pooled.estimate:.0%}, k = {pooled.k}).")  # fmt: skip


def _pooled_caption(pooled: MetaResult | None, counted: pd.DataFrame, label: str) -> str:
    """What the plot shows of the pooled result, and only that."""
    if pooled is not None:
        return (
            "Grey diamond: the published results pooled (random effects, REML, logit scale), "
            f"this study left out; dashed line: {label} prediction interval."
        )
    if len(counted) < 2:
        return "Not pooled: a single published result."
    return "Not pooled: one study gives more than one of the results."


def compare_endpoints(analysis: AnalysisData, endpoints: list[EndpointResult]) -> list[Comparison]:
    settings = analysis.settings
    # "95%" from the plan's "95% CI": the same level for intervals of either kind
    level, label = 1 - settings.alpha, settings.level_label.removesuffix(" CI")
    table = load_published()
    protocol = {e.id: e for e in analysis.study.protocol.endpoints}
    out = []
    for result in endpoints:
        spec = protocol[result.endpoint]
        if spec.kind != "pppasi_reduction" or result.n == 0:
            continue
        week = _week(analysis, result.visit)
        rows = select(table, index="PPPASI", cutoff=spec.threshold, weeks=(week - WINDOW,
                      week + WINDOW), designs=UNCONTROLLED)  # fmt: skip
        rows = rows[rows["operator"] == settings.operator]
        counted = rows.dropna(subset=["responders", "n"])
        left_out = [(str(r["row"]), f"no responder count ({r['verification']})")
                    for _, r in rows.drop(counted.index).iterrows()]  # fmt: skip
        ours = proportion_rows([result.responders], [result.n],
                               [f"{analysis.study.code} ({result.label})"], level)[0]  # fmt: skip
        ours = ForestRow(ours.label, ours.estimate, ours.low, ours.high, ours=True)
        pooled = None
        if len(counted) >= 2 and counted["study"].is_unique:
            pooled = pool_published(counted, measure="PLO", method="REML", level=level).result
        labels = [f"{r['study']} ({r['drug']}, wk {r['week']:g}; {r['verification']})"
                  for _, r in counted.iterrows()]  # fmt: skip
        published_rows = proportion_rows(counted["responders"].tolist(), counted["n"].tolist(),
                                         labels, level)  # fmt: skip
        figure = None
        if published_rows:
            fig = forest_plot([*published_rows, ours], pooled, xlabel="Proportion of responders",
                              title=f"{result.definition}, week {week:g} ± {WINDOW}")  # fmt: skip
            figure = render_figure(
                fig, f"evidence-{result.endpoint}", f"{result.label} among published results",
                "Squares: published uncontrolled studies with the same endpoint definition and "
                f"a week within {WINDOW} of this study's (exact {label} CI). Diamond in "
                f"vermillion: this study. {_pooled_caption(pooled, counted, label)}",
            )  # fmt: skip
        verdict = _verdict(ours, pooled, counted, label)
        out.append(Comparison(result.endpoint, result.definition, week, ours, counted, left_out,
                              pooled, figure, verdict))  # fmt: skip
    return out


@dataclass(frozen=True)
class NextStudy:
    endpoint: str
    posterior: tuple[float, float]  # Beta(a, b) with a uniform prior
    p1: float
    p0: float
    simon: SimonResult | None
    single: SingleStageDesign | None
    reasoning: str


def next_study(
    analysis: AnalysisData, endpoints: list[EndpointResult], *, margin: float = 0.20
) -> NextStudy | None:
    """A proposal from the primary endpoint's posterior (uniform Beta(1, 1) prior): the
    rate to detect, p1, is the posterior's 20th percentile (a cautious guess of the true
    rate), and the rate of no interest, p0, lies ``margin`` below it."""
    ids = [e.id for e in analysis.study.protocol.endpoints if e.primary]
    primary = next((e for e in endpoints if e.endpoint in ids and e.n > 0), None)
    if primary is None:
        return None
    a, b = 1 + primary.responders, 1 + primary.n - primary.responders
    p1 = round(float(stats.beta.ppf(0.2, a, b)), 2)
    p0 = round(max(0.05, p1 - margin), 2)
    reasoning = (f"{primary.label}: {primary.responders} of {primary.n} responded; with a "
                 f"uniform prior the response rate's posterior is Beta({a}, {b}). Its 20th "
                 f"percentile, {p1:.0%}, is taken as the rate the next study should detect "
                 f"(p1), and {p0:.0%} (p1 − {margin:.0%}) as the rate of no interest (p0); "
                 "one-sided α 0.05, power 0.80.")  # fmt: skip
    try:
        simon = simon_designs(p0, p1, 0.05, 0.80) if p0 < p1 else None
        single = single_stage(p0, p1, 0.05, 0.80) if p0 < p1 else None
    except PustulaError as error:
        return NextStudy(primary.label, (a, b), p1, p0, None, None,
                         f"{reasoning} No design: {error.message}")  # fmt: skip
    return NextStudy(primary.label, (a, b), p1, p0, simon, single, reasoning)


def study_as_rows(analysis: AnalysisData, endpoints: list[EndpointResult]) -> pd.DataFrame:
    """The study's PPPASI responder endpoints as rows of the published table (verification
    "this study"), so that they can be pooled or compared with the published ones."""
    protocol = {e.id: e for e in analysis.study.protocol.endpoints}
    drugs = sorted({t.drug for arm in analysis.study.protocol.arms for t in arm.treatments})
    rows = []
    for result in endpoints:
        spec = protocol[result.endpoint]
        if spec.kind != "pppasi_reduction" or result.n == 0:
            continue
        rows.append({
            "row": f"study-{result.endpoint}", "study": analysis.study.code,
            "design": "single_arm", "drug": ", ".join(drugs), "drug_class": "",
            "region": "", "arm": "treatment", "index": "PPPASI",
            "operator": analysis.settings.operator, "cutoff": float(spec.threshold or 0),
            "week": _week(analysis, result.visit), "responders": result.responders,
            "n": result.n, "verification": "this study",
        })  # fmt: skip
    return pd.DataFrame(rows)
