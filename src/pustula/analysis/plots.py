"""Figures for the report: matplotlib (Agg), each as SVG, vector PDF and 300-dpi PNG.

Publication rules every figure keeps:

- the Okabe–Ito palette, which stays distinct with every common colour-vision deficiency,
  with markers and line styles that differ too, so a greyscale print still reads;
- one colour per subject where subjects are drawn, named in a legend outside the axes, so
  labels never sit on top of each other;
- every colour, marker and line explained in a legend or the caption;
- efficacy figures draw the full analysis set, the safety figure the safety set, so their
  N is the tables' N; responder rates come from the same flags as the endpoints.

Sized for print (6.5 in wide, 9 pt text). Large studies are drawn with line collections,
and the swimmer plot shows at most 40 subjects.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import cycle

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from pustula.analysis.ci import CI_METHOD_NAMES, mean_ci
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.endpoints import responder_estimate, responder_flags
from pustula.errors import AnalysisError
from pustula.store.transfer.extract import StudyData

__all__ = ["OKABE_ITO", "Figure_", "all_figures", "consort_flow", "render_figure"]

SIZE = (6.5, 3.6)
SWIMMER_MAX = 40
SPAGHETTI_MAX = 200
#: Subjects named in the spaghetti plot's legend; more would not fit beside the plot.
LEGEND_MAX = 24
PNG_DPI = 300
#: Okabe M, Ito K. Color Universal Design (2002): black, orange, sky blue, bluish green,
#: yellow, blue, vermillion, reddish purple.
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: The palette without yellow, for thin lines and markers on white.
LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.")
#: Four distinct dash patterns for cut-off lines.
CUTOFF_LINES: tuple[str | tuple[int, tuple[int, ...]], ...] = (
    "--",
    ":",
    "-.",
    (0, (8, 2, 1, 2, 1, 2)),
)
plt.rcParams.update(
    {
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.fonttype": "none",
        "svg.hashsalt": "pustula",
        "pdf.fonttype": 42,
    }
)


@dataclass(frozen=True, eq=False)
class Figure_:  # noqa: N801 (a rendered figure, not matplotlib's Figure)
    """A rendered figure, with the numbers it drew (``data``) for cross-checks.

    The SVG (what the HTML report shows) is drawn at once; the 300-dpi PNG (PDF and Word
    reports) and the vector PDF (figure downloads) when first asked for, then kept.
    """

    key: str
    title: str
    caption: str
    svg: str
    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: Figure | None = field(default=None, repr=False)
    _drawn: dict[str, bytes] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def png(self) -> bytes:
        return self._draw("png")

    @property
    def pdf(self) -> bytes:
        return self._draw("pdf")

    def _draw(self, fmt: str) -> bytes:
        # matplotlib is not thread-safe, and two requests may want one cached report's PNG
        with self._lock:
            if fmt not in self._drawn:
                if self.source is None:
                    return b""
                out = io.BytesIO()
                metadata = {"CreationDate": None} if fmt == "pdf" else None
                self.source.savefig(out, format=fmt, dpi=PNG_DPI, metadata=metadata)
                self._drawn[fmt] = out.getvalue()
            return self._drawn[fmt]


def _render(
    fig: Figure, key: str, title: str, caption: str, data: pd.DataFrame | None = None
) -> Figure_:
    fig.tight_layout()
    svg = io.StringIO()
    fig.savefig(svg, format="svg", metadata={"Date": None})
    plt.close(fig)  # out of pyplot's registry; the figure itself stays for the PNG and PDF
    frame = pd.DataFrame() if data is None else data
    return Figure_(key, title, caption, svg.getvalue(), frame, fig)


#: A matplotlib figure as the report's SVG, PNG and PDF (for figures drawn elsewhere).
render_figure = _render


def _pppasi(analysis: AnalysisData) -> pd.DataFrame:
    """Observed PPPASI values of the full analysis set."""
    bds = analysis.efficacy
    return bds[(bds["PARAMCD"] == "PPPASI") & bds["DTYPE"].isna() & bds["AVAL"].notna()]


def _styles(n: int) -> list[tuple[str, str, str]]:
    """(colour, marker, line style) for n subjects: no two alike up to 7 × 8 × 4."""
    colours, markers, lines = cycle(LINE_COLOURS), cycle(MARKERS), LINESTYLES
    out = []
    for i in range(n):
        out.append((next(colours), next(markers), lines[(i // len(LINE_COLOURS)) % len(lines)]))
    return out


def spaghetti(analysis: AnalysisData) -> Figure_:
    data = _pppasi(analysis).sort_values(["USUBJID", "AVISITN"])
    subjects = list(data["USUBJID"].unique())
    fig, ax = plt.subplots(figsize=SIZE)
    if len(subjects) > SPAGHETTI_MAX:
        caption = _spaghetti_many(ax, data, subjects)
    else:
        for (_, g), (colour, marker, style) in zip(
            data.groupby("USUBJID", sort=True), _styles(len(subjects)), strict=True
        ):
            ax.plot(g["AVISITN"], g["AVAL"], color=colour, marker=marker, linestyle=style,
                    markersize=4, linewidth=1.2, label=str(g["SUBJID"].iloc[0]))  # fmt: skip
        caption = (
            f"Observed PPPASI of each of the {len(subjects)} subjects of the full analysis set, "
            "one colour, marker and line style per subject; missed visits are not drawn."
        )
        if len(subjects) <= LEGEND_MAX:
            columns = 1 if len(subjects) <= 12 else 2
            ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                      title="Subject", fontsize=7, ncol=columns)  # fmt: skip
        else:
            caption += f" Over {LEGEND_MAX} subjects, the lines are not named in a legend."
    _weeks(ax, analysis)
    ax.set_ylim(0, max(1.0, float(data["AVAL"].max() if len(data) else 1)) * 1.08)
    ax.set_ylabel("PPPASI (0–72)")
    drawn = data[["SUBJID", "AVISIT", "AVAL"]].reset_index(drop=True)
    return _render(fig, "spaghetti", "PPPASI per subject over time", caption, drawn)


def _spaghetti_many(ax: Axes, data: pd.DataFrame, subjects: list[str]) -> str:
    # a fixed-seed sample keeps the figure readable and the report reproducible
    chosen = np.random.default_rng(0).choice(subjects, SPAGHETTI_MAX, replace=False)
    drawn = data[data["USUBJID"].isin(chosen)]
    lines = [g[["AVISITN", "AVAL"]].to_numpy() for _, g in drawn.groupby("USUBJID")]
    ax.add_collection(LineCollection(lines, linewidths=0.4, alpha=0.25, colors=OKABE_ITO[2],
                                     label=f"{SPAGHETTI_MAX} subjects at random"))  # fmt: skip
    by_visit = data.groupby("AVISITN")["AVAL"]
    low, median, high = (by_visit.quantile(q) for q in (0.25, 0.5, 0.75))
    ax.fill_between(low.index, low, high, color=OKABE_ITO[1], alpha=0.3, label="IQR, all")
    ax.plot(median.index, median, color=OKABE_ITO[6], linewidth=2, label="median, all")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return (
        f"PPPASI of {SPAGHETTI_MAX} of {len(subjects)} subjects drawn at random (fixed seed), "
        "with the median and interquartile range of all subjects."
    )


def _weeks(ax: Axes, analysis: AnalysisData) -> None:
    ticks = [n for _, _, n in analysis.visits]
    ax.set_xticks(ticks, [label for _, label, _ in analysis.visits])
    ax.set_xlim(min(ticks) - 0.5, max(ticks) + 1)


def mean_change(analysis: AnalysisData) -> Figure_:
    settings = analysis.settings
    data = _pppasi(analysis)
    data = data[data["ABLFL"].ne("Y")]
    rows = []
    for _, label, number in analysis.visits:
        values = data.loc[data["AVISITN"] == number, "PCHG"].to_numpy(dtype=float)
        est = mean_ci(values, alpha=settings.alpha)
        if est.n:
            rows.append((label, number, est.n, est.mean, est.low, est.high))
    drawn = pd.DataFrame(rows, columns=["AVISIT", "AVISITN", "n", "mean", "low", "high"])
    fig, ax = plt.subplots(figsize=SIZE)
    # arrays, not Series: with one visit drawn, matplotlib calls float() on a 1-row Series
    half_low = (drawn["mean"] - drawn["low"]).fillna(0).to_numpy(dtype=float)
    half_high = (drawn["high"] - drawn["mean"]).fillna(0).to_numpy(dtype=float)
    ax.errorbar(drawn["AVISITN"].to_numpy(dtype=float), drawn["mean"].to_numpy(dtype=float),
                yerr=np.vstack([half_low, half_high]), marker="o",
                capsize=4, color=OKABE_ITO[5], label=f"mean, {settings.level_label}")  # fmt: skip
    for _, row in drawn.iterrows():
        ax.annotate(f"n = {row['n']}", (row["AVISITN"], row["mean"]), xytext=(6, 4),
                    textcoords="offset points", fontsize=7)  # fmt: skip
    ax.axhline(0, color="grey", linewidth=0.6)
    _weeks(ax, analysis)
    ax.set_ylabel("PPPASI % change from baseline")
    ax.legend(frameon=False, loc="lower left")
    caption = (
        f"Mean % change from baseline with its {settings.level_label} (t distribution, "
        "n − 1 degrees of freedom), observed cases of the full analysis set."
    )
    return _render(fig, "mean_change", "Mean % change in PPPASI", caption, drawn)


def waterfall_visit(analysis: AnalysisData) -> str | None:
    """The latest planned visit with at least one PPPASI % change, or None when no
    subject has a post-baseline value yet (a study early on has no week-12 data, and a
    waterfall "at week 12" with no bars says nothing)."""
    data = _pppasi(analysis)
    seen = set(data.loc[data["PCHG"].notna() & data["ABLFL"].ne("Y"), "VISITCD"])
    with_data = [code for code, _, _ in analysis.visits if code in seen]
    return with_data[-1] if with_data else None


def waterfall(analysis: AnalysisData, *, visit: str | None = None) -> Figure_:
    """Each subject's PPPASI % change at ``visit`` (default: :func:`waterfall_visit`)."""
    settings = analysis.settings
    code = visit or waterfall_visit(analysis)
    if code is None:
        raise AnalysisError("no subject has a PPPASI value after baseline yet: no waterfall")
    label = next(lb for c, lb, _ in analysis.visits if c == code)
    cutoffs = _shown_cutoffs(analysis)
    at_visit = [
        e.threshold
        for e in analysis.study.protocol.endpoints
        if e.threshold is not None and e.visit == code
    ]
    top = max(at_visit or cutoffs)
    data = _pppasi(analysis)
    at = data[(data["VISITCD"] == code) & data["PCHG"].notna()].sort_values("PCHG", ascending=False)
    values = at["PCHG"].to_numpy(dtype=float)
    responder = at[f"CRIT{analysis.crit(top)}FL"].eq("Y").to_numpy()
    fig, ax = plt.subplots(figsize=SIZE)
    x = np.arange(values.size)
    glyph = "≥" if settings.operator == ">=" else ">"
    if values.size <= 200:
        colours = np.where(responder, OKABE_ITO[5], OKABE_ITO[1])
        ax.bar(x, values, color=colours, width=0.8)
    else:
        ax.fill_between(x, values, step="mid", color=OKABE_ITO[5], linewidth=0)
    handles: list[object] = [
        Patch(color=OKABE_ITO[5], label=f"PPPASI{top} responder (reduction {glyph} {top}%)"),
        Patch(color=OKABE_ITO[1], label=f"not a PPPASI{top} responder"),
    ]
    for cut, style in zip(cutoffs, CUTOFF_LINES * 2, strict=False):
        handles.append(ax.axhline(-cut, color="black", linestyle=style, linewidth=0.8,
                                  label=f"−{cut}% (PPPASI{cut})"))  # fmt: skip
    ax.axhline(0, color="grey", linewidth=0.6)
    if values.size <= 30:
        ax.set_xticks(x, list(at["SUBJID"]), fontsize=7)
    else:
        ax.set_xticks([])
    ax.set_xlabel(f"Subjects, n = {values.size}")
    ax.set_ylabel("PPPASI % change")
    ax.set_ylim(-105, max(10.0, float(values.max()) + 5 if values.size else 10.0))
    ax.legend(handles=handles, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              fontsize=7)  # fmt: skip
    drawn = at[["SUBJID", "PCHG"]].assign(responder=responder).reset_index(drop=True)
    return _render(
        fig,
        "waterfall",
        f"Waterfall of PPPASI % change at {label}",
        f"Each bar is one subject's % change from baseline at {label} (full analysis set, "
        f"observed); bar colour shows PPPASI{top} response and lines mark the cut-offs.",
        drawn,
    )


def _shown_cutoffs(analysis: AnalysisData) -> list[int]:
    """Every cut-off below 100 the analysis derived, which includes each endpoint's."""
    return [c for c in analysis.settings.cutoffs if c < 100] or list(analysis.settings.cutoffs)


def responder_rates(analysis: AnalysisData) -> Figure_:
    settings = analysis.settings
    population = int((analysis.adsl["FASFL"] == "Y").sum())
    cutoffs = _shown_cutoffs(analysis)
    rows = []
    for cut in cutoffs:
        for code, label, number in analysis.visits[1:]:
            flags = responder_flags(analysis, code, analysis.crit(cut))
            est = responder_estimate(flags, settings, population=population)
            if est.ci is not None:
                rows.append((f"PPPASI{cut}", label, number, est.x, est.n, est.ci.estimate,
                             est.ci.low, est.ci.high))  # fmt: skip
    drawn = pd.DataFrame(
        rows, columns=["response", "AVISIT", "AVISITN", "x", "n", "estimate", "low", "high"]
    )
    fig, ax = plt.subplots(figsize=SIZE)
    offsets = np.linspace(-0.3, 0.3, len(cutoffs)) if len(cutoffs) > 1 else [0.0]
    styles = _styles(len(cutoffs))
    for k, cut in enumerate(cutoffs):
        part = drawn[drawn["response"] == f"PPPASI{cut}"]
        colour, marker, _ = styles[k]
        rate = 100 * part["estimate"].to_numpy(dtype=float)
        # clipped at 0: a limit may differ from the estimate by rounding only
        low, high = (100 * part[c].to_numpy(dtype=float) for c in ("low", "high"))
        err = np.vstack([(rate - low).clip(min=0), (high - rate).clip(min=0)])
        ax.errorbar(part["AVISITN"].to_numpy(dtype=float) + offsets[k], rate, yerr=err,
                    marker=marker, color=colour,
                    capsize=3, linestyle=LINESTYLES[k % 4], label=f"PPPASI{cut}")  # fmt: skip
    _weeks(ax, analysis)
    ax.set_ylim(0, 105)
    ax.set_ylabel(f"Responders, % ({settings.level_label})")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0), title="Response")
    glyph = "≥" if settings.operator == ">=" else ">"
    return _render(
        fig,
        "responders",
        "Responder rates by visit",
        f"PPPASI responders (reduction {glyph} cut-off) with "
        f"{CI_METHOD_NAMES[settings.ci_method]} "
        f"{settings.level_label}, {settings.imputation} data, full analysis set; points are "
        "spread sideways so that intervals do not overlap.",
        drawn,
    )


def swimmer(analysis: AnalysisData) -> Figure_:
    adsl = analysis.adsl[analysis.adsl["SAFFL"] == "Y"].sort_values("SUBJID")
    start = adsl.set_index("SUBJID")["TRTSDT"]
    exposure = analysis.study.exposure
    spans = (
        exposure.groupby("subject")
        .agg(first=("start_date", "min"), last=("end_date", "max"))
        .reindex(start.index)
    )
    # still on drug (an open exposure record): the bar runs to the last dated record
    ongoing = set(exposure.loc[exposure["end_date"].isna(), "subject"]) & set(start.index)
    last = spans["last"].where(~spans.index.isin(ongoing), _last_record(analysis.study))
    days = (last.fillna(spans["first"]) - start).dt.days.fillna(0)
    shown = days.sort_values(ascending=False).head(SWIMMER_MAX)
    fig, ax = plt.subplots(figsize=(SIZE[0], max(2.5, 0.3 * len(shown) + 1.2)))
    y = np.arange(len(shown))
    pos = {s: i for i, s in enumerate(shown.index)}
    ax.barh(y, shown.to_numpy(), color=OKABE_ITO[2], height=0.5, label="on study drug")
    going_on = [s for s in shown.index if s in ongoing]
    if going_on:
        ax.scatter([shown[s] for s in going_on], [pos[s] for s in going_on], marker=">",
                   color=OKABE_ITO[2], s=40, zorder=3,
                   label="still on study drug (bar ends at the last record)")  # fmt: skip
    _interruptions(ax, analysis, start, pos)
    _ae_markers(ax, analysis, start, pos)
    ax.set_yticks(y, list(shown.index))
    ax.invert_yaxis()
    ax.set_xlabel("Days since first dose (day 0 = first dose, as in the visit schedule)")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    more = f" (the {SWIMMER_MAX} longest of {len(days)})" if len(days) > SWIMMER_MAX else ""
    drawn = pd.DataFrame({"SUBJID": shown.index, "days": shown.to_numpy()})
    return _render(
        fig,
        "swimmer",
        "Exposure, interruptions and adverse events",
        f"Time on study drug per subject of the safety set{more}: hatched segments are "
        "interruptions; adverse event onsets are marked just above each bar"
        + (
            "; a triangle at a bar's end marks a subject still on study drug, whose bar ends "
            "at their last record."
            if going_on
            else "."
        ),
        drawn,
    )


def _last_record(study: StudyData) -> pd.Series:
    """Each subject's latest dated record (assessment, lab sample, adverse event)."""
    dated = [
        (study.assessments, "visit_date"),
        (study.labs, "sample_date"),
        (study.adverse_events, "start_date"),
        (study.adverse_events, "end_date"),
    ]
    dates = pd.concat(
        [f[["subject", c]].rename(columns={c: "date"}).dropna() for f, c in dated if len(f)]
        or [pd.DataFrame({"subject": [], "date": []})]
    )
    return pd.to_datetime(dates["date"]).groupby(dates["subject"]).max()


def _interruptions(ax: Axes, analysis: AnalysisData, start: pd.Series, pos: dict[str, int]) -> None:
    rows = analysis.study.interruptions
    rows = rows[rows["subject"].isin(pos)]
    labelled = False
    for _, row in rows.iterrows():
        first = (row["start_date"] - start[row["subject"]]).days
        end = row["end_date"] if pd.notna(row["end_date"]) else row["start_date"]
        length = max(1, (end - row["start_date"]).days)
        ax.barh(pos[row["subject"]], length, left=first, height=0.5, color="white",
                edgecolor=OKABE_ITO[0], hatch="////", linewidth=0.6,
                label=None if labelled else "interruption")  # fmt: skip
        labelled = True


def _ae_markers(ax: Axes, analysis: AnalysisData, start: pd.Series, pos: dict[str, int]) -> None:
    ae = analysis.study.adverse_events
    ae = ae[ae["subject"].isin(pos)]
    day = (ae["start_date"] - ae["subject"].map(start)).dt.days
    row = ae["subject"].map(pos) - 0.42  # above the bar, never on an interruption
    serious = ae["serious"].astype(bool)
    for mask, marker, colour, text in (
        (~serious, "v", OKABE_ITO[6], "adverse event onset"),
        (serious, "X", OKABE_ITO[0], "serious adverse event onset"),
    ):
        if mask.any():
            ax.scatter(day[mask], row[mask], marker=marker, color=colour, s=22, zorder=3,
                       label=text)  # fmt: skip


def consort_flow(
    stages: Sequence[tuple[str, int]], exits: Sequence[tuple[str, int] | None] = ()
) -> Figure_:
    """A CONSORT-style flow diagram: the stages top to bottom, and beside each arrow the
    subjects who left there (``exits[i]`` leaves between stage i and stage i + 1)."""
    rows = len(stages)
    fig, ax = plt.subplots(figsize=(SIZE[0], 0.8 * rows + 0.3))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, rows)
    box = {"boxstyle": "round,pad=0.45", "facecolor": "white", "edgecolor": OKABE_ITO[5]}
    side = {"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": OKABE_ITO[1]}
    for i, (label, n) in enumerate(stages):
        yc = rows - i - 0.5
        ax.text(0.35, yc, f"{label}\nn = {n}", ha="center", va="center", fontsize=8.5, bbox=box)
        if i + 1 < rows:
            ax.annotate("", (0.35, yc - 0.68), (0.35, yc - 0.32),
                        arrowprops={"arrowstyle": "->", "color": "black"})  # fmt: skip
    for i, exit_ in enumerate(exits):
        if exit_ is None:
            continue
        yc = rows - i - 1.0
        ax.annotate("", (0.6, yc), (0.35, yc), arrowprops={"arrowstyle": "->", "color": "grey"})
        ax.text(0.62, yc, f"{exit_[0]}\nn = {exit_[1]}", ha="left", va="center", fontsize=8,
                bbox=side)  # fmt: skip
    data = pd.DataFrame(
        [*((label, n, "stage") for label, n in stages),
         *((e[0], e[1], "left") for e in exits if e is not None)],
        columns=["stage", "n", "kind"],
    )  # fmt: skip
    caption = (
        "Flow of subjects through the study: blue boxes are the stages, orange boxes the "
        "subjects who left between two stages."
    )
    return _render(fig, "flow", "Flow of subjects (CONSORT-style)", caption, data)


def all_figures(analysis: AnalysisData) -> list[Figure_]:
    """The report's figures; the waterfall only once a visit after baseline has data."""
    return [
        spaghetti(analysis),
        mean_change(analysis),
        *([waterfall(analysis)] if waterfall_visit(analysis) else []),
        responder_rates(analysis),
        swimmer(analysis),
    ]
