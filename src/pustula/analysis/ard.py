"""The analysis results dataset: every statistic as one row of a long table, unformatted.

Columns: ``table, group, variable, level, stat, value, method, alpha``. Tables are laid
out from these rows by :mod:`pustula.analysis.tables`; nothing here rounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

import pandas as pd

from pustula.analysis.ci import (
    CIMethod,
    beta_binomial_posterior,
    proportion_ci,
    summarise_continuous,
    wilcoxon_change,
)
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.endpoints import responder_counts

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
    adsl = analysis.adsl[analysis.adsl["SAFFL"] == "Y"]
    n = len(adsl)
    t, g = "baseline", "All"
    yield from _continuous(t, g, "Age (years)", adsl["AGE"])
    sexes = adsl["SEX"].map({"F": "Female", "M": "Male", "U": "Unknown"}).value_counts().to_dict()
    yield from _categorical(t, g, "Sex", sexes, n)
    yield from _continuous(t, g, "Disease duration (months)", adsl["DURDISM"])
    yield from _categorical(t, g, "Smoking", adsl["SMOKING"].value_counts().to_dict(), n)
    yield from _categorical(t, g, "Triggers", _list_counts(adsl["TRIGGERS"]), n)
    yield from _categorical(t, g, "Comorbidities", _list_counts(adsl["COMORB"]), n)
    prior = analysis.study.prior_therapies
    prior = prior[prior["subject"].isin(adsl["SUBJID"])]
    by_category = (
        prior.drop_duplicates(["subject", "category"])["category"].value_counts().to_dict()
    )
    yield from _categorical(t, g, "Prior therapy (any, by category)", by_category, n)
    by_drug = prior.drop_duplicates(["subject", "drug"])["drug"].value_counts().to_dict()
    yield from _categorical(t, g, "Prior therapy (by drug)", by_drug, n)


def _list_counts(column: pd.Series) -> dict[str, int]:
    exploded = column.explode().dropna()
    return {str(k): int(v) for k, v in exploded.value_counts().items()}


def efficacy_rows(analysis: AnalysisData) -> Iterable[Row]:
    settings = analysis.settings
    method: CIMethod = settings.ci_method
    bds = analysis.adqs[analysis.adqs["PARAMCD"] == "PPPASI"]
    for code, label, _ in analysis.visits:
        at = bds[bds["VISITCD"] == code]
        yield from _continuous("efficacy", label, "PPPASI", at["AVAL"])
        yield from _continuous(
            "efficacy", label, "PPPASI % change", at.loc[at["ABLFL"].ne("Y"), "PCHG"]
        )
        for y, cut in enumerate(settings.cutoffs, start=1):
            x, n = responder_counts(at[f"CRIT{y}FL"])
            if n == 0:
                continue
            ci = proportion_ci(x, n, method=method, alpha=settings.alpha)
            variable = f"PPPASI{cut}"
            yield _row("efficacy", label, variable, "", "x", x)
            yield _row("efficacy", label, variable, "", "N", n)
            for stat in ("estimate", "low", "high"):
                yield _row(
                    "efficacy", label, variable, "", stat, getattr(ci, stat), method, settings.alpha
                )
            post = beta_binomial_posterior(
                x, n, threshold=0.5, prior=settings.posterior_prior, alpha=settings.alpha
            )
            yield _row(
                "efficacy",
                label,
                variable,
                "",
                "posterior_p_above_0.5",
                post.p_above_threshold,
                f"Beta({post.prior_a:g}, {post.prior_b:g}) prior",
                settings.alpha,
            )
        changes = at.loc[at["DTYPE"].isna() & at["ABLFL"].ne("Y"), "CHG"]
        if changes.notna().any():
            test = wilcoxon_change(changes.to_numpy(dtype=float))
            yield _row(
                "efficacy", label, "PPPASI change", "", "wilcoxon_p", test.p_value, test.method
            )
            yield _row("efficacy", label, "PPPASI change", "", "wilcoxon_caveat", test.caveat)


def pga_rows(analysis: AnalysisData) -> Iterable[Row]:
    bds = analysis.adqs[(analysis.adqs["PARAMCD"] == "PGA") & analysis.adqs["AVAL"].notna()]
    for code, label, _ in analysis.visits:
        at = bds[bds["VISITCD"] == code]
        counts = {str(g): int((at["AVAL"] == g).sum()) for g in range(5)}
        yield from _categorical("pga", label, "PGA", counts, len(at))
        x, n = responder_counts(at[f"CRIT{analysis.pga_crit}FL"])
        if n:
            ci = proportion_ci(
                x, n, method=analysis.settings.ci_method, alpha=analysis.settings.alpha
            )
            yield _row("pga", label, "PGA 0/1", "", "x", x)
            yield _row("pga", label, "PGA 0/1", "", "N", n)
            for stat in ("estimate", "low", "high"):
                yield _row(
                    "pga", label, "PGA 0/1", "", stat, getattr(ci, stat), ci.method, ci.alpha
                )


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
