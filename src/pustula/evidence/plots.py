"""Forest and funnel plots (matplotlib), returned as figures for the report and the web app
to render. Colours from the Okabe–Ito palette; the study's own result, when shown, is a
filled diamond in vermillion, distinct by shape as well as colour."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from pustula.evidence.meta import EffectSizes, MetaResult, back_transform

__all__ = ["ForestRow", "forest_plot", "funnel_plot", "proportion_rows", "study_rows"]

BLUE, VERMILLION, GREY = "#0072B2", "#D55E00", "#555555"


@dataclass(frozen=True)
class ForestRow:
    label: str
    estimate: float
    low: float
    high: float
    ours: bool = False


def study_rows(es: EffectSizes, labels: Sequence[str], level: float = 0.95) -> list[ForestRow]:
    """Each study's estimate and Wald CI on the measure's scale."""
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    rows = []
    for label, y, v in zip(labels, es.yi, es.vi, strict=True):
        half = z * math.sqrt(v)
        mid, low, high = (back_transform(es.measure, t, es.n) for t in (y, y - half, y + half))
        rows.append(ForestRow(label, mid, low, high))
    return rows


def proportion_rows(
    events: Sequence[float], n: Sequence[float], labels: Sequence[str], level: float = 0.95
) -> list[ForestRow]:
    """Each study's proportion with its exact (Clopper–Pearson) CI, which stays inside
    0–1 and holds at 0/n and n/n, where a logit Wald interval cannot."""
    a = (1 - level) / 2
    rows = []
    for label, x, m in zip(labels, events, n, strict=True):
        low = 0.0 if x == 0 else float(stats.beta.ppf(a, x, m - x + 1))
        high = 1.0 if x == m else float(stats.beta.ppf(1 - a, x + 1, m - x))
        rows.append(ForestRow(label, x / m, low, high))
    return rows


def forest_plot(
    rows: Sequence[ForestRow], pooled: MetaResult | None, *, xlabel: str, title: str = "",
    proportion: bool = True,
) -> Figure:  # fmt: skip
    """Studies top to bottom (squares; this study a diamond in vermillion), the pooled
    estimate as a grey diamond with its prediction interval as a dashed line beneath it; a
    log axis for ratios. The caption explains the symbols."""
    height = 1.6 + 0.32 * (len(rows) + (2 if pooled else 0))
    fig, ax = plt.subplots(figsize=(6.5, height))
    ys = np.arange(len(rows))[::-1] + (2 if pooled else 0)
    for y, row in zip(ys, rows, strict=True):
        colour = VERMILLION if row.ours else BLUE
        ax.plot([row.low, row.high], [y, y], color=colour, lw=1.2)
        ax.plot(row.estimate, y, marker="D" if row.ours else "s", color=colour, ms=6 if row.ours
                else 5, ls="none", clip_on=False)  # fmt: skip
    labels = [r.label + ("  (this study)" if r.ours else "") for r in rows]
    ticks = list(ys)
    if pooled is not None:
        mid = pooled.estimate
        diamond = [(pooled.ci_low, 0.8), (mid, 1.05), (pooled.ci_high, 0.8), (mid, 0.55)]
        ax.fill([p[0] for p in diamond], [p[1] for p in diamond], color=GREY)
        ax.plot([pooled.pi_low, pooled.pi_high], [0.2, 0.2], color=GREY, lw=1, ls="--")
        ticks += [0.8, 0.2]
        labels += [f"Pooled ({pooled.method}, k = {pooled.k})", "Prediction interval"]
        ax.axvline(mid, color=GREY, lw=0.6, ls=":")
    ax.set_yticks(ticks, labels)
    if pooled is not None and pooled.measure in ("RR", "OR"):
        ax.set_xscale("log")
        ax.axvline(1, color="black", lw=0.6)
    if proportion:
        ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    # the symbols are explained in the caption, which long study names cannot crowd out
    if title:
        ax.set_title(title, loc="left", fontsize=9)
    fig.tight_layout()
    return fig


def funnel_plot(es: EffectSizes, pooled: MetaResult, *, xlabel: str) -> Figure:
    """Effect (model scale) against its standard error, inverted, with the 95% pseudo
    confidence region around the pooled estimate."""
    fig, ax = plt.subplots(figsize=(5, 4))
    se = np.sqrt(es.vi)
    top = float(se.max()) * 1.05
    grid = np.linspace(0, top, 50)
    ax.plot(pooled.mu - 1.96 * grid, grid, color=GREY, lw=0.8, ls="--")
    ax.plot(pooled.mu + 1.96 * grid, grid, color=GREY, lw=0.8, ls="--")
    ax.axvline(pooled.mu, color=GREY, lw=0.8)
    ax.plot(es.yi, se, "o", color=BLUE, ms=5)
    ax.set_ylim(top, 0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Standard error")
    fig.tight_layout()
    return fig
