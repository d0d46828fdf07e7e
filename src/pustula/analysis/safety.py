"""Safety statistics: subjects (not events) with adverse events, lab alerts and grades."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


def safety_rows(analysis: AnalysisData, *, by: Mapping[str, str] | None = None) -> Iterable[Row]:
    """Subjects with events, overall (group "All") or by ``by`` (subject -> group, e.g.
    each subject's arm as treated): each group's percentages over its own safety set."""
    safety = analysis.adsl.loc[analysis.adsl["SAFFL"] == "Y", "SUBJID"]
    te = treatment_emergent_events(analysis)
    labs = analysis.study.labs
    groups = {"All": set(safety)} if by is None else {}
    if by is not None:
        for subject in safety:
            if subject in by:
                groups.setdefault(by[subject], set()).add(subject)
    for group, members in groups.items():
        events = te[te["subject"].isin(members)]
        yield from _events(group, events, len(members))
        yield from _lab_rows(group, labs[labs["subject"].isin(members)], len(members))


def _events(g: str, te: pd.DataFrame, n: int) -> Iterable[Row]:
    t = "ae_overview"
    yield from _count(t, g, "Any TEAE", "", te["subject"], n)
    yield from _count(t, g, "Serious TEAE", "", te.loc[te["serious"].astype(bool), "subject"], n)
    yield from _count(
        t, g, "Related TEAE", "", te.loc[te["relatedness"].isin(RELATED), "subject"], n
    )
    yield from _count(
        t, g, "TEAE leading to withdrawal", "", te.loc[te["action_taken"] == "withdrawn",
                                                         "subject"], n
    )  # fmt: skip
    yield from _count(
        t, g, "TEAE leading to interruption", "", te.loc[te["action_taken"] == "interrupted",
                                                           "subject"], n
    )  # fmt: skip
    worst = te.groupby("subject")["grade"].max()
    for grade in range(1, 6):
        yield from _count(
            t, g, "Worst CTCAE grade", str(grade), worst[worst == grade].index.to_series(), n
        )
    soc = te["meddra_soc"].fillna("Not coded")
    pt = te["meddra_pt"].fillna(te["term"])
    coded = te.assign(SOC=soc, PT=pt)
    for soc_name, events in coded.groupby("SOC"):
        table = "ae_soc_pt" if g == "All" else f"ae_soc_pt:{g}"
        yield from _count(table, str(soc_name), str(soc_name), "", events["subject"], n)
        for pt_name, pt_events in events.groupby("PT"):
            yield from _count(table, str(soc_name), str(pt_name), "", pt_events["subject"], n)


def _lab_name(test: str) -> str:
    """A lab test by its clinical name, from the one table of tests (checks.values)."""
    known = LAB_TESTS.get(test)
    return test if known is None else known.label


def _lab_rows(group: str, labs: pd.DataFrame, n: int) -> Iterable[Row]:
    alerts = labs[["subject", "test", "alerts"]].explode("alerts").dropna(subset=["alerts"])
    for text, rows in alerts.groupby(alerts["alerts"].map(lambda a: a["text"])):
        yield from _count("lab_alerts", group, str(text), "", rows["subject"], n)
    graded = labs[labs["on_treatment"].astype(bool)].dropna(subset=["ctcae_grade"])
    worst = graded.groupby(["test", "subject"])["ctcae_grade"].max().reset_index()
    table = "lab_grades" if group == "All" else f"lab_grades:{group}"
    for test, rows in worst.groupby("test"):
        for grade in range(0, 5):
            subjects = rows.loc[rows["ctcae_grade"] == grade, "subject"]
            yield from _count(
                table, str(test), f"{_lab_name(str(test))} on treatment", str(grade), subjects, n
            )
    yield from _lab_shifts(group, labs, n)


def _lab_shifts(group: str, labs: pd.DataFrame, n: int) -> Iterable[Row]:
    """Shift tables: each subject's CTCAE grade before the first dose (the last value,
    grade 0 when normal or not graded) against their worst grade on treatment."""
    graded = labs.assign(grade=pd.to_numeric(labs["ctcae_grade"], errors="coerce").fillna(0))
    before = graded[~graded["on_treatment"].astype(bool)].sort_values("sample_date")
    base = before.groupby(["test", "subject"])["grade"].last()
    on = graded[graded["on_treatment"].astype(bool)].groupby(["test", "subject"])["grade"].max()
    pairs = pd.DataFrame({"base": base, "worst": on}).dropna(subset=["worst"]).fillna(0)
    for test, rows in pairs.groupby(level="test"):
        subjects = rows.index.get_level_values("subject").to_series(index=rows.index)
        for (b, w), cell in rows.groupby(["base", "worst"]):
            yield from _count("lab_shift", group, _lab_name(str(test)),
                              f"{b:.0f} → {w:.0f}", subjects.loc[cell.index], n)  # fmt: skip
