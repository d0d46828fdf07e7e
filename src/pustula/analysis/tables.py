"""Tables laid out from the long statistics table (ARD): formatting only, no statistics."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Literal

import pandas as pd

__all__ = [
    "ae_overview_table",
    "ae_soc_pt_table",
    "baseline_table",
    "efficacy_table",
    "fmt_ci",
    "fmt_mean_sd",
    "fmt_median_iqr",
    "fmt_n_pct",
    "fmt_number",
    "fmt_p",
    "lab_table",
    "pga_table",
    "responder_table",
    "to_html",
    "wilcoxon_table",
]

DASH = "–"
Rounding = Literal["half_up", "half_even"]
_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


def fmt_number(value: float | None, decimals: int = 1, *, rounding: Rounding = "half_up") -> str:
    """A number with ``decimals`` places; NaN and None show "NE" (not estimable).

    The number is rounded as it is written (its shortest decimal form), not as its binary
    approximation: half up gives 2.25 → "2.3" and 2.675 → "2.68", as SAS and R's
    ``round`` users expect; ``half_even`` gives "2.2" and "2.68".

    >>> fmt_number(2.25), fmt_number(2.25, rounding="half_even"), fmt_number(2.675, 2)
    ('2.3', '2.2', '2.68')
    >>> fmt_number(-0.04), fmt_number(-1.25), fmt_number(float("nan"))
    ('0.0', '−1.3', 'NE')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NE"
    exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), _MODES[rounding])
    if exact == 0:
        exact = abs(exact)
    return f"{exact:.{decimals}f}".replace("-", "−")


def _num(value: float, decimals: int, rounding: Rounding = "half_up") -> str:
    return fmt_number(value, decimals, rounding=rounding)


def fmt_n_pct(n: int, pct: float, *, decimals: int = 1, rounding: Rounding = "half_up") -> str:
    """``5 (83.3%)``; a zero count shows no percentage.

    >>> fmt_n_pct(5, 83.3333), fmt_n_pct(0, 0.0)
    ('5 (83.3%)', '0')
    """
    return "0" if n == 0 else f"{n} ({_num(pct, decimals, rounding)}%)"


def fmt_mean_sd(
    mean: float, sd: float, *, decimals: int = 1, rounding: Rounding = "half_up"
) -> str:
    """``18.0 (4.3)``

    >>> fmt_mean_sd(18.04, float("nan"))
    '18.0 (NE)'
    """
    return f"{_num(mean, decimals, rounding)} ({_num(sd, decimals, rounding)})"


def fmt_median_iqr(
    median: float, q1: float, q3: float, *, decimals: int = 1, rounding: Rounding = "half_up"
) -> str:
    low, high = _num(q1, decimals, rounding), _num(q3, decimals, rounding)
    return f"{_num(median, decimals, rounding)} [{low}{DASH}{high}]"


def fmt_ci(
    x: int,
    n: int,
    estimate: float,
    low: float,
    high: float,
    *,
    decimals: int = 1,
    rounding: Rounding = "half_up",
) -> str:
    """``5/6 (83.3%) [35.9–99.6]`` with the rate and limits in percent.

    >>> fmt_ci(6, 6, 1.0, 0.540742, 1.0)
    '6/6 (100.0%) [54.1–100.0]'
    """

    def pct(value: float) -> str:
        return _num(100 * value, decimals, rounding)

    return f"{x}/{n} ({pct(estimate)}%) [{pct(low)}{DASH}{pct(high)}]"


def fmt_p(p: float) -> str:
    """A p-value: three significant digits, never "0.000".

    >>> fmt_p(0.03125), fmt_p(0.5), fmt_p(0.00001234)
    ('0.0312', '0.500', '< 0.001')
    """
    if p is None or math.isnan(p):
        return "NE"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3g}" if p < 0.1 else f"{p:.3f}"


Key = tuple[str, ...]


class _Stats:
    """Look-up of one ARD table's values by (group, variable, level, stat), and the one
    rounding rule every cell of a table is formatted with."""

    def __init__(self, ard: pd.DataFrame, table: str, rounding: Rounding = "half_up") -> None:
        self.part = ard[ard["table"] == table]
        self.rounding = rounding
        self.values: dict[Key, object] = {
            (g, v, lv, s): val
            for g, v, lv, s, val in zip(
                self.part["group"],
                self.part["variable"],
                self.part["level"],
                self.part["stat"],
                self.part["value"],
                strict=True,
            )
        }

    def has(self, *key: str) -> bool:
        return key in self.values

    def f(self, *key: str) -> float:
        value = self.values.get(key)
        return float("nan") if value is None else float(value)  # type: ignore[arg-type]  # ARD values are numbers here

    def i(self, *key: str) -> int:
        value = self.f(*key)
        return 0 if math.isnan(value) else int(value)

    def text(self, *key: str) -> str:
        return str(self.values.get(key, ""))

    def num(self, value: float, decimals: int = 1) -> str:
        return fmt_number(value, decimals, rounding=self.rounding)

    def mean_sd(self, group: str, variable: str) -> str:
        get = functools.partial(self.f, group, variable, "")
        return fmt_mean_sd(get("mean"), get("sd"), rounding=self.rounding)

    def median_range(self, group: str, variable: str, low: str, high: str) -> str:
        get = functools.partial(self.f, group, variable, "")
        return fmt_median_iqr(get("median"), get(low), get(high), rounding=self.rounding)

    def n_pct(self, group: str, variable: str, level: str) -> str:
        return fmt_n_pct(
            self.i(group, variable, level, "n"),
            self.f(group, variable, level, "pct"),
            rounding=self.rounding,
        )

    def pct(self, group: str, variable: str, stat: str) -> str:
        return self.num(100 * self.f(group, variable, "", stat))

    def ci(self, group: str, variable: str) -> str:
        return fmt_ci(
            self.i(group, variable, "", "x"),
            self.i(group, variable, "", "N"),
            self.f(group, variable, "", "estimate"),
            self.f(group, variable, "", "low"),
            self.f(group, variable, "", "high"),
            rounding=self.rounding,
        )


def baseline_table(ard: pd.DataFrame, *, rounding: Rounding = "half_up") -> pd.DataFrame:
    """Baseline characteristics: mean (SD) and median [min–max], or n (%) per level."""
    st = _Stats(ard, "baseline", rounding)
    n = st.i("All", "Age (years)", "", "n")
    rows: list[tuple[str, str]] = []
    for variable in dict.fromkeys(st.part["variable"]):
        if st.has("All", variable, "", "mean"):
            rows.append((f"{variable}, mean (SD)", st.mean_sd("All", variable)))
            rows.append(
                (
                    f"{variable}, median [min{DASH}max]",
                    st.median_range("All", variable, "min", "max"),
                )
            )
            continue
        rows.append((f"{variable}, n (%)", ""))
        levels = st.part[(st.part["variable"] == variable) & (st.part["stat"] == "n")]
        for level in levels["level"]:
            text = level.replace("_", " ")
            rows.append((f"    {text[:1].upper()}{text[1:]}", st.n_pct("All", variable, level)))
    return pd.DataFrame(rows, columns=["Characteristic", f"All subjects (N = {n})"])


def efficacy_table(
    ard: pd.DataFrame,
    visits: Sequence[str],
    *,
    rounding: Rounding = "half_up",
    level: str = "95% CI",
) -> pd.DataFrame:
    """PPPASI by visit: n, mean (SD), median [IQR], and mean % change (SD) with its t CI."""
    st = _Stats(ard, "efficacy", rounding)
    rows = []
    for label in visits:
        change = functools.partial(st.f, label, "PPPASI % change", "")
        has_change = st.i(label, "PPPASI % change", "", "n") > 0
        rows.append(
            {
                "Visit": label,
                "n": str(st.i(label, "PPPASI", "", "n")),
                "PPPASI, mean (SD)": st.mean_sd(label, "PPPASI"),
                "PPPASI, median [IQR]": st.median_range(label, "PPPASI", "q1", "q3"),
                "% change, mean (SD)": st.mean_sd(label, "PPPASI % change") if has_change else "",
                f"% change, {level}": (
                    f"{st.num(change('mean_low'))} to {st.num(change('mean_high'))}"
                    if has_change
                    else ""
                ),
            }
        )
    return pd.DataFrame(rows)


def responder_table(
    ard: pd.DataFrame,
    visits: Sequence[str],
    cutoffs: Sequence[int],
    operator: str,
    *,
    rounding: Rounding = "half_up",
    level: str = "95% CI",
    threshold: float = 0.5,
) -> pd.DataFrame:
    """One row per visit and cut-off: responders n/N (%), the interval, the posterior."""
    st = _Stats(ard, "efficacy", rounding)
    glyph = {">=": "≥", ">": ">"}.get(operator, operator)
    p_label = f"P(rate > {100 * threshold:g}%)"
    columns = ["Visit", "Response", "n/N (%)", f"{level}, %", p_label, "Not evaluable"]
    rows = []
    for label in visits:
        for cut in cutoffs:
            variable = f"PPPASI{cut}"
            if not st.has(label, variable, "", "x"):
                continue
            x, n = st.i(label, variable, "", "x"), st.i(label, variable, "", "N")
            pct = functools.partial(st.pct, label, variable)
            values = [
                label,
                f"PPPASI{cut} (reduction {glyph} {cut}%)",
                f"{x}/{n} ({pct('estimate')}%)",
                f"{pct('low')}{DASH}{pct('high')}",
                fmt_number(st.f(label, variable, "", "posterior_p_above"), 3, rounding=rounding),
                str(st.i(label, variable, "", "not_evaluable")),
            ]
            rows.append(dict(zip(columns, values, strict=True)))
    return pd.DataFrame(rows, columns=columns)


def wilcoxon_table(
    ard: pd.DataFrame, visits: Sequence[str], *, rounding: Rounding = "half_up"
) -> pd.DataFrame:
    """The Wilcoxon signed-rank test of the PPPASI change at each post-baseline visit."""
    st = _Stats(ard, "wilcoxon", rounding)
    v = "PPPASI change"
    columns = ["Visit", "n (non-zero)", "Median change", "T+", "p (two-sided)", "Method", "Note"]
    rows = []
    for label in visits:
        if not st.has(label, v, "", "p"):
            continue
        values = [
            label,
            f"{st.i(label, v, '', 'n')} ({st.i(label, v, '', 'n_nonzero')})",
            st.num(st.f(label, v, "", "median")),
            st.num(st.f(label, v, "", "statistic")),
            fmt_p(st.f(label, v, "", "p")),
            str(
                st.part.loc[(st.part["group"] == label) & (st.part["stat"] == "p"), "method"].iloc[
                    0
                ]
            ),
            st.text(label, v, "", "caveat"),
        ]
        rows.append(dict(zip(columns, values, strict=True)))
    return pd.DataFrame(rows, columns=columns)


def pga_table(
    ard: pd.DataFrame,
    visits: Sequence[str],
    *,
    rounding: Rounding = "half_up",
    level: str = "95% CI",
) -> pd.DataFrame:
    """PGA grades among observed values, and PGA 0/1 as the endpoint defines it."""
    st = _Stats(ard, "pga", rounding)
    rows = []
    for label in visits:
        row = {"Visit": label, "n observed": str(st.i(label, "PGA", "", "N"))}
        for grade in range(5):
            row[f"PGA {grade}"] = st.n_pct(label, "PGA", str(grade))
        row[f"PGA 0/1, n/N (%) [{level}]"] = (
            st.ci(label, "PGA 0/1") if st.has(label, "PGA 0/1", "", "x") else ""
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _subject_rows(
    ard: pd.DataFrame,
    table: str,
    name: Callable[[str, str, str], str] | None = None,
    rounding: Rounding = "half_up",
) -> list[tuple[str, str]]:
    st = _Stats(ard, table, rounding)
    rows = []
    keys = st.part[["group", "variable", "level"]].drop_duplicates().itertuples(index=False)
    for group, variable, level in keys:
        label = name(group, variable, level) if name else f"{variable} {level}".strip()
        rows.append((label, st.n_pct(group, variable, level)))
    return rows


def ae_overview_table(ard: pd.DataFrame, n: int, *, rounding: Rounding = "half_up") -> pd.DataFrame:
    rows = _subject_rows(ard, "ae_overview", rounding=rounding)
    return pd.DataFrame(rows, columns=["Subjects with", f"n (%) of N = {n}"])


def ae_soc_pt_table(ard: pd.DataFrame, n: int, *, rounding: Rounding = "half_up") -> pd.DataFrame:
    rows = _subject_rows(
        ard, "ae_soc_pt", lambda g, v, _lv: v if v == g else f"    {v}", rounding=rounding
    )
    return pd.DataFrame(
        rows, columns=["System organ class / Preferred term", f"Subjects, n (%) of N = {n}"]
    )


def lab_table(ard: pd.DataFrame, n: int, *, rounding: Rounding = "half_up") -> pd.DataFrame:
    alerts = _subject_rows(ard, "lab_alerts", rounding=rounding)
    grades = _subject_rows(
        ard, "lab_grades", lambda _g, v, lv: f"{v}: worst CTCAE grade {lv}", rounding=rounding
    )
    return pd.DataFrame(
        alerts + grades, columns=["Lab alert or grade", f"Subjects, n (%) of N = {n}"]
    )


def to_html(frame: pd.DataFrame) -> str:
    """A table as escaped HTML; cells that start with four spaces are indented. A table
    with no rows reads "None.", as in the Word report, not as headers over nothing.

    >>> to_html(pd.DataFrame({"Subject": []}))
    '<p class="none">None.</p>'
    """
    if frame.empty:
        return '<p class="none">None.</p>'
    marker = "\x00indent\x00"
    marked = frame.map(
        lambda v: marker + v[4:] if isinstance(v, str) and v.startswith("    ") else v
    )
    html = marked.to_html(index=False, escape=True, border=0, classes="table", na_rep="")
    return html.replace(f"<td>{marker}", '<td class="indent">')
