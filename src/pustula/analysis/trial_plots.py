"""Figures of a randomized trial: the CONSORT 2010 flow diagram by arm, mean PPPASI %
change by arm over the visits, and the forest plot of subgroups. Same rules as
:mod:`pustula.analysis.plots`: the Okabe–Ito palette, markers that differ by arm, and the
numbers each figure drew kept beside it."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pustula.analysis.ci import mean_ci
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.plots import OKABE_ITO, SIZE, Figure_, render_figure

__all__ = ["ArmFlow", "TrialFlow", "consort_by_arm", "forest_plot", "mean_change_by_arm"]

Counted = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ArmFlow:
    """One arm's column of the CONSORT diagram."""

    label: str
    allocated: int
    received: int
    not_received: Counted
    discontinued: Counted
    analysed: int
    excluded_from_analysis: Counted
    #: withdrawn after the first dose with a reason that says lost to follow-up; the
    #: others are ``discontinued``, with their reasons
    lost: int = 0


@dataclass(frozen=True)
class TrialFlow:
    """The CONSORT 2010 flow: enrolment, then allocation, follow-up and analysis by arm."""

    assessed: int
    excluded: Counted
    randomized: int
    arms: tuple[ArmFlow, ...]

    def problems(self) -> list[str]:
        """Where the diagram does not add up (empty when every box adds up)."""
        out = []
        if self.assessed != self.randomized + sum(n for _, n in self.excluded):
            out.append("assessed is not randomized plus excluded")
        if self.randomized != sum(a.allocated for a in self.arms):
            out.append("randomized is not the sum of the arms")
        for a in self.arms:
            if a.allocated != a.received + sum(n for _, n in a.not_received):
                out.append(f"{a.label}: allocated is not received plus not received")
            if a.allocated != a.analysed + sum(n for _, n in a.excluded_from_analysis):
                out.append(f"{a.label}: allocated is not analysed plus excluded")
        return out


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width, subsequent_indent="   ")
                     for line in text.split("\n"))  # fmt: skip


def _lines(items: Counted) -> str:
    return "".join(f"\n• {reason} (n = {n})" for reason, n in items)


def consort_by_arm(flow: TrialFlow, population: str) -> Figure_:
    """The CONSORT 2010 diagram: one column per arm below the randomization."""
    arms = len(flow.arms)
    fig, ax = plt.subplots(figsize=(SIZE[0], 7.0))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 10)
    box = {"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": OKABE_ITO[5]}
    side = {"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": OKABE_ITO[1]}
    stage = {"boxstyle": "round,pad=0.3", "facecolor": "#DCEBF7", "edgecolor": "none"}
    arrow = {"arrowstyle": "->", "color": "black"}
    ax.text(0.35, 9.6, f"Assessed for eligibility (n = {flow.assessed})", ha="center",
            va="center", fontsize=8, bbox=box)  # fmt: skip
    excluded = sum(n for _, n in flow.excluded)
    ax.text(0.56, 8.65, _wrap(f"Excluded (n = {excluded}){_lines(flow.excluded)}", 58),
            ha="left", va="center", fontsize=6.5, bbox=side)  # fmt: skip
    ax.annotate("", (0.55, 8.65), (0.35, 8.65), arrowprops={**arrow, "color": "grey"})
    ax.annotate("", (0.35, 7.95), (0.35, 9.35), arrowprops=arrow)
    ax.text(0.35, 7.7, f"Randomized (n = {flow.randomized})", ha="center", va="center",
            fontsize=8, bbox=box)  # fmt: skip
    rows = []
    for y, name in ((5.6, "Allocation"), (3.5, "Follow-up"), (1.2, "Analysis")):
        ax.text(0.5, y, name, ha="center", va="center", fontsize=8, fontweight="bold",
                bbox=stage)  # fmt: skip
    for i, arm in enumerate(flow.arms):
        x = (i + 0.5) / arms
        ax.annotate("", (x, 6.45), (0.35, 7.45), arrowprops=arrow)
        for top, bottom in ((4.9, 3.85), (3.15, 1.75)):
            ax.annotate("", (x, bottom), (x, top), arrowprops=arrow)
        not_received = sum(n for _, n in arm.not_received)
        excluded_n = sum(n for _, n in arm.excluded_from_analysis)
        texts = (  # CONSORT 2010 item 13b: losses and exclusions after randomization
            (5.6, f"Allocated to {arm.label} (n = {arm.allocated})\nReceived the allocated "
                  f"treatment (n = {arm.received})\nDid not receive it (n = {not_received})"
                  f"{_lines(arm.not_received)}"),
            (3.5, f"Lost to follow-up (n = {arm.lost})\nDiscontinued (n = "
                  f"{sum(n for _, n in arm.discontinued)}){_lines(arm.discontinued)}"),
            (1.2, f"Analysed, {population} (n = {arm.analysed})\nExcluded from the analysis "
                  f"(n = {excluded_n}){_lines(arm.excluded_from_analysis)}"),
        )  # fmt: skip
        for y, text in texts:
            ax.text(x, y, _wrap(text, 44), ha="center", va="center", fontsize=6.5, bbox=box)
        rows += [(arm.label, "allocated", arm.allocated), (arm.label, "received", arm.received),
                 (arm.label, "analysed", arm.analysed)]  # fmt: skip
    data = pd.DataFrame(
        [("all", "assessed", flow.assessed), ("all", "randomized", flow.randomized), *rows],
        columns=["arm", "stage", "n"],
    )
    caption = (
        "CONSORT 2010 flow diagram (Schulz KF, Altman DG, Moher D. BMJ 2010;340:c332): "
        "enrolment, allocation, follow-up and analysis, one column per arm."
    )
    return render_figure(fig, "consort_arms", "Flow of subjects by arm (CONSORT 2010)",
                         caption, data)  # fmt: skip


def mean_change_by_arm(analysis: AnalysisData, subjects: pd.DataFrame,
                       arms: Sequence[tuple[str, str]]) -> Figure_:  # fmt: skip
    """Mean PPPASI % change from baseline per arm and visit with its t interval, observed
    cases of ``subjects`` (USUBJID, ARMCD)."""
    settings = analysis.settings
    bds = analysis.adqs
    observed = (bds["PARAMCD"] == "PPPASI") & bds["DTYPE"].isna() & bds["PCHG"].notna()
    data = bds[observed & bds["ABLFL"].ne("Y")].merge(subjects[["USUBJID", "ARMCD"]],
                                                       on="USUBJID")  # fmt: skip
    rows = []
    for code, label in arms:
        for _, visit, number in analysis.visits:
            values = data.loc[(data["ARMCD"] == code) & (data["AVISITN"] == number), "PCHG"]
            est = mean_ci(values.to_numpy(dtype=float), alpha=settings.alpha)
            if est.n:
                rows.append((label, visit, number, est.n, est.mean, est.low, est.high))
    drawn = pd.DataFrame(rows, columns=["arm", "AVISIT", "AVISITN", "n", "mean", "low", "high"])
    fig, ax = plt.subplots(figsize=SIZE)
    for i, (_, label) in enumerate(arms):
        part = drawn[drawn["arm"] == label]
        x = part["AVISITN"].to_numpy(dtype=float) + (i - (len(arms) - 1) / 2) * 0.25
        below = (part["mean"] - part["low"]).fillna(0).to_numpy(dtype=float)
        above = (part["high"] - part["mean"]).fillna(0).to_numpy(dtype=float)
        errors = np.vstack([below, above])
        ax.errorbar(x, part["mean"].to_numpy(dtype=float), yerr=errors, capsize=3,
                    marker=("o", "s", "^", "D")[i % 4], linestyle=("-", "--", ":", "-.")[i % 4],
                    color=(OKABE_ITO[5], OKABE_ITO[6], OKABE_ITO[3], OKABE_ITO[7])[i % 4],
                    label=label)  # fmt: skip
    ax.axhline(0, color="grey", linewidth=0.6)
    ticks = [n for _, _, n in analysis.visits]
    ax.set_xticks(ticks, [v for _, v, _ in analysis.visits])
    ax.set_ylabel("PPPASI % change from baseline")
    ax.legend(frameon=False, loc="lower left", fontsize=7)
    caption = (
        f"Mean % change in PPPASI from baseline by arm with its {settings.level_label} "
        "(t distribution), observed cases; arms offset sideways so the intervals do not hide "
        "each other."
    )
    return render_figure(fig, "mean_change_arms", "Mean % change in PPPASI by arm", caption,
                         drawn)  # fmt: skip


def forest_plot(rows: pd.DataFrame, title: str) -> Figure_:
    """Risk difference (points) with its interval per subgroup: ``rows`` has subgroup,
    level, n, estimate, low, high (fractions), top to bottom."""
    fig, ax = plt.subplots(figsize=(SIZE[0], 0.35 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    estimate = 100 * rows["estimate"].to_numpy(dtype=float)
    low, high = 100 * rows["low"].to_numpy(dtype=float), 100 * rows["high"].to_numpy(dtype=float)
    ax.errorbar(estimate, y, xerr=np.vstack([estimate - low, high - estimate]), fmt="s",
                color=OKABE_ITO[5], capsize=3)  # fmt: skip
    ax.axvline(0, color="grey", linewidth=0.8)
    labels = [f"{g}: {lv} (n = {n})" for g, lv, n in zip(rows["subgroup"], rows["level"],
                                                           rows["n"], strict=True)]  # fmt: skip
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel("Difference in response rate, percentage points (95% CI)")
    caption = (
        "Exploratory: the difference between arms within each subgroup, with its "
        "Miettinen–Nurminen 95% interval. The interaction p-values are in the table."
    )
    return render_figure(fig, "forest", title, caption, rows.reset_index(drop=True))
