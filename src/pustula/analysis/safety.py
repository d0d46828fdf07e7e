"""Safety statistics: subjects (not events) with adverse events, lab alerts and grades."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from pustula.analysis.datasets import AnalysisData
from pustula.checks.values import LAB_TESTS

__all__ = ["RELATED", "safety_rows", "treatment_emergent_events"]

RELATED = ("possible", "probable", "definite")
Row = dict[str, Any]


def _count(
    table: str, group: str, variable: str, level: str, subjects: pd.Series, n: int
) -> Iterable[Row]:
    x = int(subjects.nunique())
    yield {
        "table": table,
        "group": group,
        "variable": variable,
        "level": level,
        "stat": "n",
        "value": x,
        "method": "subjects",
        "alpha": None,
    }
    yield {
        "table": table,
        "group": group,
        "variable": variable,
        "level": level,
        "stat": "pct",
        "value": 100 * x / n if n else float("nan"),
        "method": "subjects",
        "alpha": None,
    }


def treatment_emergent_events(analysis: AnalysisData) -> pd.DataFrame:
    safety = analysis.adsl.loc[analysis.adsl["SAFFL"] == "Y", "SUBJID"]
    ae = analysis.study.adverse_events
    return ae[ae["subject"].isin(safety) & ae["treatment_emergent"].fillna(False).astype(bool)]


def safety_rows(analysis: AnalysisData) -> Iterable[Row]:
    n = int((analysis.adsl["SAFFL"] == "Y").sum())
    te = treatment_emergent_events(analysis)
    t = "ae_overview"
    yield from _count(t, "All", "Any TEAE", "", te["subject"], n)
    yield from _count(
        t, "All", "Serious TEAE", "", te.loc[te["serious"].astype(bool), "subject"], n
    )
    yield from _count(
        t, "All", "Related TEAE", "", te.loc[te["relatedness"].isin(RELATED), "subject"], n
    )
    yield from _count(
        t,
        "All",
        "TEAE leading to withdrawal",
        "",
        te.loc[te["action_taken"] == "withdrawn", "subject"],
        n,
    )
    yield from _count(
        t,
        "All",
        "TEAE leading to interruption",
        "",
        te.loc[te["action_taken"] == "interrupted", "subject"],
        n,
    )
    worst = te.groupby("subject")["grade"].max()
    for grade in range(1, 6):
        yield from _count(
            t, "All", "Worst CTCAE grade", str(grade), worst[worst == grade].index.to_series(), n
        )
    soc = te["meddra_soc"].fillna("Not coded")
    pt = te["meddra_pt"].fillna(te["term"])
    coded = te.assign(SOC=soc, PT=pt)
    for soc_name, events in coded.groupby("SOC"):
        yield from _count("ae_soc_pt", str(soc_name), str(soc_name), "", events["subject"], n)
        for pt_name, pt_events in events.groupby("PT"):
            yield from _count("ae_soc_pt", str(soc_name), str(pt_name), "", pt_events["subject"], n)
    yield from _lab_rows(analysis, n)


def _lab_name(test: str) -> str:
    """A lab test by its clinical name, from the one table of tests (checks.values)."""
    known = LAB_TESTS.get(test)
    return test if known is None else known.label


def _lab_rows(analysis: AnalysisData, n: int) -> Iterable[Row]:
    labs = analysis.study.labs
    safety = analysis.adsl.loc[analysis.adsl["SAFFL"] == "Y", "SUBJID"]
    labs = labs[labs["subject"].isin(safety)]
    alerts = labs[["subject", "test", "alerts"]].explode("alerts").dropna(subset=["alerts"])
    for text, rows in alerts.groupby(alerts["alerts"].map(lambda a: a["text"])):
        yield from _count("lab_alerts", "All", str(text), "", rows["subject"], n)
    graded = labs[labs["on_treatment"].astype(bool)].dropna(subset=["ctcae_grade"])
    worst = graded.groupby(["test", "subject"])["ctcae_grade"].max().reset_index()
    for test, rows in worst.groupby("test"):
        for grade in range(0, 5):
            subjects = rows.loc[rows["ctcae_grade"] == grade, "subject"]
            yield from _count(
                "lab_grades",
                str(test),
                f"{_lab_name(str(test))} on treatment",
                str(grade),
                subjects,
                n,
            )
