"""The analysis results dataset: every statistic as one row of a long table, unformatted.

Columns: ``table, group, variable, level, stat, value, method, alpha``. Tables are laid
out from these rows by :mod:`pustula.analysis.tables`; nothing here rounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

import pandas as pd

from pustula.analysis.ci import WilcoxonZeros, mean_ci, summarise_continuous, wilcoxon_change
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.endpoints import responder_estimate, responder_flags
from pustula.analysis.settings import AnalysisSettings
from pustula.checks.vocabulary import label as code_label

__all__ = ["ARD_COLUMNS", "build_ard"]

ARD_COLUMNS = ["table", "group", "variable", "level", "stat", "value", "method", "alpha"]
Row = dict[str, Any]


def _row(
    table: str,
    group: str,
    variable: str,
    level: str,
    stat: str,
    value: Any,
    method: str = "",
    alpha: float | None = None,
) -> Row:
    return {
        "table": table,
        "group": group,
        "variable": variable,
        "level": level,
        "stat": stat,
        "value": value,
        "method": method,
        "alpha": alpha,
    }


def _continuous(table: str, group: str, variable: str, values: pd.Series) -> Iterable[Row]:
    for stat, value in asdict(summarise_continuous(values.to_numpy(dtype=float))).items():
        yield _row(table, group, variable, "", stat, value)


def _categorical(
    table: str, group: str, variable: str, counts: Mapping[Any, int], n: int
) -> Iterable[Row]:
    yield _row(table, group, variable, "", "N", n)
    for level, count in counts.items():
        yield _row(table, group, variable, str(level), "n", count)
        yield _row(
            table, group, variable, str(level), "pct", 100 * count / n if n else float("nan")
        )


def baseline_rows(analysis: AnalysisData) -> Iterable[Row]:
    """Baseline characteristics of the safety set (every subject who was dosed)."""
    adsl = analysis.adsl[analysis.adsl["SAFFL"] == "Y"]
    n = len(adsl)
    t, g = "baseline", "All"
    yield from _continuous(t, g, "Age (years)", adsl["AGE"])
    sexes = adsl["SEX"].map({"F": "Female", "M": "Male", "U": "Unknown"}).value_counts().to_dict()
    yield from _categorical(t, g, "Sex", sexes, n)
    yield from _continuous(t, g, "Disease duration (months)", adsl["DURDISM"])
    smoking = adsl["SMOKING"].map(lambda c: code_label("smoking", c)).value_counts().to_dict()
    yield from _categorical(t, g, "Smoking", smoking, n)
    yield from _categorical(t, g, "Triggers", _list_counts(adsl["TRIGGERS"], "trigger"), n)
    yield from _categorical(t, g, "Comorbidities", _list_counts(adsl["COMORB"], "comorbidity"), n)
    prior = analysis.study.prior_therapies
    prior = prior[prior["subject"].isin(adsl["SUBJID"])]
    categories = prior.drop_duplicates(["subject", "category"])["category"]
    by_category = categories.map(lambda c: code_label("prior_category", c)).value_counts().to_dict()
    yield from _categorical(t, g, "Prior therapy (any, by category)", by_category, n)
    by_drug = prior.drop_duplicates(["subject", "drug"])["drug"].value_counts().to_dict()
    yield from _categorical(t, g, "Prior therapy (by drug)", by_drug, n)


def _list_counts(column: pd.Series, codelist: str) -> dict[str, int]:
    exploded = column.explode().dropna()
    return {code_label(codelist, k): int(v) for k, v in exploded.value_counts().items()}


def efficacy_rows(analysis: AnalysisData) -> Iterable[Row]:
    """PPPASI by visit in the full analysis set: summaries, the mean % change with its t
    interval, responders per cut-off and the Wilcoxon test of the change."""
    settings = analysis.settings
    bds = analysis.efficacy[analysis.efficacy["PARAMCD"] == "PPPASI"]
    population = int((analysis.adsl["FASFL"] == "Y").sum())
    t = "efficacy"
    for code, label, _ in analysis.visits:
        at = bds[bds["VISITCD"] == code]
        yield from _continuous(t, label, "PPPASI", at["AVAL"])
        change = at.loc[at["ABLFL"].ne("Y"), "PCHG"]
        yield from _continuous(t, label, "PPPASI % change", change)
        mean = mean_ci(change.to_numpy(dtype=float), alpha=settings.alpha)
        for stat in ("low", "high"):
            yield _row(t, label, "PPPASI % change", "", f"mean_{stat}", getattr(mean, stat),
                       mean.method, settings.alpha)  # fmt: skip
        for cut in settings.cutoffs:
            flags = responder_flags(analysis, code, analysis.crit(cut))
            yield from _responder_rows(t, label, f"PPPASI{cut}", flags, settings, population)
        changes = at.loc[at["DTYPE"].isna() & at["ABLFL"].ne("Y"), "CHG"]
        if changes.notna().any():
            yield from _wilcoxon_rows(label, changes, settings.wilcoxon_zero_method)


def _responder_rows(
    table: str,
    group: str,
    variable: str,
    flags: pd.Series,
    settings: AnalysisSettings,
    population: int,
) -> Iterable[Row]:
    est = responder_estimate(flags, settings, population=population)
    if est.ci is None or est.posterior is None:
        return
    yield _row(table, group, variable, "", "x", est.x)
    yield _row(table, group, variable, "", "N", est.n)
    yield _row(table, group, variable, "", "not_evaluable", est.not_evaluable)
    for stat in ("estimate", "low", "high"):
        yield _row(table, group, variable, "", stat, getattr(est.ci, stat), est.ci.method,
                   settings.alpha)  # fmt: skip
    post = est.posterior
    yield _row(table, group, variable, "", "posterior_p_above", post.p_above_threshold,
               f"Beta({post.prior_a:g}, {post.prior_b:g}) prior, P(rate > "
               f"{100 * post.threshold:g}%)", settings.alpha)  # fmt: skip


def _wilcoxon_rows(label: str, changes: pd.Series, zero_method: WilcoxonZeros) -> Iterable[Row]:
    test = wilcoxon_change(changes.to_numpy(dtype=float), zero_method=zero_method)
    v = "PPPASI change"
    yield _row("wilcoxon", label, v, "", "n", test.n)
    yield _row("wilcoxon", label, v, "", "n_nonzero", test.n_nonzero)
    yield _row("wilcoxon", label, v, "", "median", float(changes.median()))
    yield _row("wilcoxon", label, v, "", "statistic", test.statistic, test.method)
    yield _row("wilcoxon", label, v, "", "p", test.p_value, test.method)
    yield _row("wilcoxon", label, v, "", "smallest_p", test.smallest_p, test.method)
    yield _row("wilcoxon", label, v, "", "caveat", test.caveat)


def pga_rows(analysis: AnalysisData) -> Iterable[Row]:
    """PGA grades among observed values, and PGA 0/1 from the same flags as the endpoint
    (so imputed non-responders and the baseline minimum count here too)."""
    efficacy = analysis.efficacy
    bds = efficacy[(efficacy["PARAMCD"] == "PGA") & efficacy["AVAL"].notna()]
    population = int((analysis.adsl["FASFL"] == "Y").sum())
    for code, label, _ in analysis.visits:
        at = bds[bds["VISITCD"] == code]
        counts = {str(g): int((at["AVAL"] == g).sum()) for g in range(5)}
        yield from _categorical("pga", label, "PGA", counts, len(at))
        flags = responder_flags(analysis, code, analysis.pga_crit)
        yield from _responder_rows("pga", label, "PGA 0/1", flags, analysis.settings, population)


def build_ard(analysis: AnalysisData) -> pd.DataFrame:
    """Every statistic of the report in one long table (safety rows: :mod:`safety`)."""
    from pustula.analysis.safety import safety_rows

    rows = [
        *baseline_rows(analysis),
        *efficacy_rows(analysis),
        *pga_rows(analysis),
        *safety_rows(analysis),
    ]
    return pd.DataFrame(rows, columns=ARD_COLUMNS)
