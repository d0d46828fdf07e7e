"""Figures for the report: matplotlib (Agg), each returned as SVG text and PNG bytes.

Sized for print (single column, 6.5 x 3.6 in, 9 pt text); colours stay readable in
greyscale because markers and line styles differ too. Large studies are drawn with line
collections, and the swimmer plot shows at most 40 subjects.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from pustula.analysis.ci import proportion_ci, summarise_continuous
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.endpoints import responder_counts

__all__ = ["Figure_", "all_figures"]

SIZE = (6.5, 3.6)
SWIMMER_MAX = 40
SPAGHETTI_MAX = 200
plt.rcParams.update(
    {
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.fonttype": "none",
        "svg.hashsalt": "pustula",
    }
)


@dataclass(frozen=True)
class Figure_:  # noqa: N801 (a rendered figure, not matplotlib's Figure)
    key: str
    title: str
    caption: str
    svg: str
    png: bytes


def _render(fig: Figure, key: str, title: str, caption: str) -> Figure_:
    fig.tight_layout()
    svg, png = io.StringIO(), io.BytesIO()
    fig.savefig(svg, format="svg", metadata={"Date": None})
    fig.savefig(png, format="png", dpi=150)
    plt.close(fig)
    return Figure_(key, title, caption, svg.getvalue(), png.getvalue())


def _pppasi(analysis: AnalysisData) -> pd.DataFrame:
    bds = analysis.adqs
    return bds[(bds["PARAMCD"] == "PPPASI") & bds["DTYPE"].isna() & bds["AVAL"].notna()]


def spaghetti(analysis: AnalysisData) -> Figure_:
    data = _pppasi(analysis).sort_values(["USUBJID", "AVISITN"])
    subjects = data["USUBJID"].unique()
    fig, ax = plt.subplots(figsize=SIZE)
    many = len(subjects) > SPAGHETTI_MAX
    if many:
        # a fixed-seed sample keeps the figure readable and the report reproducible
        chosen = np.random.default_rng(0).choice(subjects, SPAGHETTI_MAX, replace=False)
        drawn = data[data["USUBJID"].isin(chosen)]
    else:
        drawn = data
    lines = [g[["AVISITN", "AVAL"]].to_numpy() for _, g in drawn.groupby("USUBJID")]
    ax.add_collection(
        LineCollection(
            lines, linewidths=0.4 if many else 1.2, alpha=0.25 if many else 0.9, colors="#1f4e79"
        )
    )
    if many:
        by_visit = data.groupby("AVISITN")["AVAL"]
        low, median, high = (by_visit.quantile(q) for q in (0.25, 0.5, 0.75))
        ax.fill_between(
            low.index, low, high, color="#c55a11", alpha=0.25, label="IQR, all subjects"
        )
        ax.plot(
            median.index,
            median,
            color="#c55a11",
            linewidth=2,
            label="median, all subjects",
        )
        ax.legend(frameon=False, loc="upper right")
        caption = (
            f"PPPASI of {SPAGHETTI_MAX} of {len(subjects)} subjects drawn at random (fixed "
            "seed), with the median and interquartile range of all subjects."
        )
    else:
        ax.scatter(drawn["AVISITN"], drawn["AVAL"], s=12, color="#1f4e79", zorder=3)
        for _, g in drawn.groupby("USUBJID"):
            last = g.iloc[-1]
            ax.annotate(
                str(g["SUBJID"].iloc[0]),
                (last["AVISITN"], last["AVAL"]),
                fontsize=7,
                xytext=(3, 0),
                textcoords="offset points",
            )
        caption = (
            f"Observed PPPASI of each of {len(subjects)} subjects (missing visits are not drawn)."
        )
    _weeks(ax, analysis)
    ax.set_ylim(0, max(1.0, float(data["AVAL"].max() if len(data) else 1)) * 1.08)
    ax.set_ylabel("PPPASI (0-72)")
    return _render(fig, "spaghetti", "PPPASI per subject over time", caption)


def _weeks(ax: Axes, analysis: AnalysisData) -> None:
    ticks = [n for _, _, n in analysis.visits]
    ax.set_xticks(ticks, [label for _, label, _ in analysis.visits])
    ax.set_xlim(min(ticks) - 0.5, max(ticks) + 1)


def mean_change(analysis: AnalysisData) -> Figure_:
    data = _pppasi(analysis)
    data = data[data["ABLFL"].ne("Y")]
    xs, means, lows, highs = [], [], [], []
    for _, _, number in analysis.visits:
        values = data.loc[data["AVISITN"] == number, "PCHG"].to_numpy(dtype=float)
        summary = summarise_continuous(values)
        if summary.n == 0:
            continue
        half = 1.96 * summary.sd / np.sqrt(summary.n) if summary.n > 1 else 0.0
        xs.append(number)
        means.append(summary.mean)
        lows.append(summary.mean - half)
        highs.append(summary.mean + half)
    fig, ax = plt.subplots(figsize=SIZE)
    ax.errorbar(
        xs,
        means,
        yerr=[np.subtract(means, lows), np.subtract(highs, means)],
        marker="o",
        capsize=4,
        color="#1f4e79",
    )
    ax.axhline(0, color="grey", linewidth=0.6)
    _weeks(ax, analysis)
    ax.set_ylabel("PPPASI % change from baseline")
    return _render(
        fig,
        "mean_change",
        "Mean % change in PPPASI",
        "Mean % change from baseline with 95% CI (mean ± 1.96 SE), observed cases.",
    )


def waterfall(
    analysis: AnalysisData, *, visit: str | None = None, cutoffs: Sequence[int] = (50, 80)
) -> Figure_:
    code = visit or analysis.visits[-1][0]
    label = next(lb for c, lb, _ in analysis.visits if c == code)
    data = _pppasi(analysis)
    values = np.sort(data.loc[(data["VISITCD"] == code) & data["PCHG"].notna(), "PCHG"].to_numpy())[
        ::-1
    ]
    fig, ax = plt.subplots(figsize=SIZE)
    x = np.arange(values.size)
    if values.size <= 200:
        ax.bar(x, values, color=np.where(values <= -cutoffs[-1], "#1f4e79", "#9dc3e6"), width=0.8)
    else:
        ax.fill_between(x, values, step="mid", color="#1f4e79", linewidth=0)
    for cut, style in zip(cutoffs, ("--", ":", "-."), strict=False):
        ax.axhline(-cut, color="black", linestyle=style, linewidth=0.8, label=f"-{cut}%")
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.set_xticks([])
    ax.set_xlabel(f"Subjects, n = {values.size}")
    ax.set_ylabel("PPPASI % change")
    ax.set_ylim(-105, max(10.0, float(values.max()) + 5 if values.size else 10.0))
    ax.legend(frameon=False, loc="upper right")
    return _render(
        fig,
        "waterfall",
        f"Waterfall of PPPASI % change at {label}",
        f"Each bar is one subject's % change at {label}; lines mark the cut-offs.",
    )


def responder_rates(analysis: AnalysisData, *, cutoffs: Sequence[int] = (50, 75, 90)) -> Figure_:
    settings = analysis.settings
    bds = analysis.adqs[analysis.adqs["PARAMCD"] == "PPPASI"]
    fig, ax = plt.subplots(figsize=SIZE)
    markers = ("o", "s", "^", "D", "v")
    shown = [c for c in cutoffs if c in settings.cutoffs]
    for k, cut in enumerate(shown):
        y = settings.cutoffs.index(cut) + 1
        xs, rates, lo, hi = [], [], [], []
        for _, _, number in analysis.visits[1:]:
            x, n = responder_counts(bds.loc[bds["AVISITN"] == number, f"CRIT{y}FL"])
            if n == 0:
                continue
            ci = proportion_ci(x, n, method=settings.ci_method, alpha=settings.alpha)
            xs.append(number + (k - 1) * 0.15)
            rates.append(100 * ci.estimate)
            # clipped at 0: a limit may differ from the estimate by rounding only
            lo.append(max(0.0, 100 * (ci.estimate - ci.low)))
            hi.append(max(0.0, 100 * (ci.high - ci.estimate)))
        ax.errorbar(
            xs,
            rates,
            yerr=[lo, hi],
            marker=markers[k % 5],
            capsize=3,
            label=f"PPPASI{cut}",
            linestyle="-",
        )
    _weeks(ax, analysis)
    ax.set_ylim(0, 105)
    ax.set_ylabel("Responders, % (95% CI)")
    ax.legend(frameon=False, loc="lower right")
    return _render(
        fig,
        "responders",
        "Responder rates by visit",
        f"PPPASI responders ({settings.operator} cut-off) with {settings.ci_method} 95% CI, "
        f"{settings.imputation} data.",
    )


def swimmer(analysis: AnalysisData) -> Figure_:
    exposure = analysis.study.exposure
    adsl = analysis.adsl[analysis.adsl["SAFFL"] == "Y"].sort_values("SUBJID")
    start = adsl.set_index("SUBJID")["TRTSDT"]
    spans = (
        exposure.groupby("subject")
        .agg(first=("start_date", "min"), last=("end_date", "max"))
        .reindex(start.index)
    )
    days = ((spans["last"].fillna(spans["first"]) - start).dt.days + 1).fillna(0)
    shown = days.sort_values(ascending=False).head(SWIMMER_MAX)
    fig, ax = plt.subplots(figsize=(SIZE[0], max(2.5, 0.22 * len(shown) + 1)))
    y = np.arange(len(shown))
    ax.barh(y, shown.to_numpy(), color="#9dc3e6", height=0.6)
    ax.set_yticks(y, list(shown.index))
    ae = analysis.study.adverse_events
    ae = ae[ae["subject"].isin(shown.index)]
    pos = {s: i for i, s in enumerate(shown.index)}
    ae_day = (ae["start_date"] - ae["subject"].map(start)).dt.days + 1
    serious = ae["serious"].astype(bool)
    ax.scatter(
        ae_day[~serious],
        ae["subject"][~serious].map(pos),
        marker="v",
        color="#c55a11",
        label="adverse event",
        zorder=3,
    )
    if serious.any():
        ax.scatter(
            ae_day[serious],
            ae["subject"][serious].map(pos),
            marker="X",
            color="black",
            label="serious adverse event",
            zorder=3,
        )
    interruptions = analysis.study.interruptions
    for _, row in interruptions[interruptions["subject"].isin(shown.index)].iterrows():
        s = (row["start_date"] - start[row["subject"]]).days + 1
        e = (
            (row["end_date"] if pd.notna(row["end_date"]) else row["start_date"])
            - start[row["subject"]]
        ).days + 1
        ax.plot([s, e], [pos[row["subject"]]] * 2, color="white", linewidth=3)
    ax.invert_yaxis()
    ax.set_xlabel("Days on study drug (day 1 = first dose); gaps are interruptions")
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, 1.12), ncol=2)
    more = f" (the {SWIMMER_MAX} longest of {len(days)})" if len(days) > SWIMMER_MAX else ""
    return _render(
        fig,
        "swimmer",
        "Exposure and adverse events",
        f"Time on study drug per subject{more}, with adverse event onsets.",
    )


def all_figures(analysis: AnalysisData) -> list[Figure_]:
    return [
        spaghetti(analysis),
        mean_change(analysis),
        waterfall(analysis),
        responder_rates(analysis),
        swimmer(analysis),
    ]
