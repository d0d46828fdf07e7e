"""Tables laid out from the long statistics table (ARD): formatting only, no statistics."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

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
    "lab_table",
    "pga_table",
    "responder_table",
    "to_html",
]

DASH = "–"


def _num(value: float, decimals: int) -> str:
    return (
        "NE"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.{decimals}f}"
    )


def fmt_n_pct(n: int, pct: float, *, decimals: int = 1) -> str:
    """``5 (83.3%)``; a zero count shows no percentage.

    >>> fmt_n_pct(5, 83.3333), fmt_n_pct(0, 0.0)
    ('5 (83.3%)', '0')
    """
    return "0" if n == 0 else f"{n} ({_num(pct, decimals)}%)"


def fmt_mean_sd(mean: float, sd: float, *, decimals: int = 1) -> str:
    """``18.0 (4.3)``

    >>> fmt_mean_sd(18.04, float("nan"))
    '18.0 (NE)'
    """
    return f"{_num(mean, decimals)} ({_num(sd, decimals)})"


def fmt_median_iqr(median: float, q1: float, q3: float, *, decimals: int = 1) -> str:
    return f"{_num(median, decimals)} [{_num(q1, decimals)}{DASH}{_num(q3, decimals)}]"


def fmt_ci(x: int, n: int, estimate: float, low: float, high: float, *, decimals: int = 1) -> str:
    """``5/6 (83.3%) [35.9–99.6]`` with the rate and limits in percent.

    >>> fmt_ci(6, 6, 1.0, 0.540742, 1.0)
    '6/6 (100.0%) [54.1–100.0]'
    """

    def pct(value: float) -> str:
        return _num(100 * value, decimals)

    return f"{x}/{n} ({pct(estimate)}%) [{pct(low)}{DASH}{pct(high)}]"


Key = tuple[str, ...]


class _Stats:
    """Look-up of one ARD table's values by (group, variable, level, stat)."""

    def __init__(self, ard: pd.DataFrame, table: str) -> None:
        self.part = ard[ard["table"] == table]
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

    def ci(self, group: str, variable: str) -> str:
        return fmt_ci(
            self.i(group, variable, "", "x"),
            self.i(group, variable, "", "N"),
            self.f(group, variable, "", "estimate"),
            self.f(group, variable, "", "low"),
            self.f(group, variable, "", "high"),
        )


def baseline_table(ard: pd.DataFrame) -> pd.DataFrame:
    st = _Stats(ard, "baseline")
    n = st.i("All", "Age (years)", "", "n")
    rows: list[tuple[str, str]] = []
    for variable in dict.fromkeys(st.part["variable"]):
        if st.has("All", variable, "", "mean"):
            get = functools.partial(st.f, "All", variable, "")
            rows.append((f"{variable}, mean (SD)", fmt_mean_sd(get("mean"), get("sd"))))
            rows.append(
                (
                    f"{variable}, median [min{DASH}max]",
                    fmt_median_iqr(get("median"), get("min"), get("max")),
                )
            )
            continue
        rows.append((f"{variable}, n (%)", ""))
        levels = st.part[(st.part["variable"] == variable) & (st.part["stat"] == "n")]
        for level in levels["level"]:
            cell = fmt_n_pct(st.i("All", variable, level, "n"), st.f("All", variable, level, "pct"))
            rows.append((f"    {level.replace('_', ' ')}", cell))
    return pd.DataFrame(rows, columns=["Characteristic", f"All subjects (N={n})"])


def efficacy_table(ard: pd.DataFrame, visits: Sequence[str]) -> pd.DataFrame:
    """PPPASI by visit: n, mean (SD), median [IQR] and mean % change (SD)."""
    st = _Stats(ard, "efficacy")
    rows = []
    for label in visits:
        value = functools.partial(st.f, label, "PPPASI", "")
        change = functools.partial(st.f, label, "PPPASI % change", "")
        rows.append(
            {
                "Visit": label,
                "n": str(st.i(label, "PPPASI", "", "n")),
                "PPPASI, mean (SD)": fmt_mean_sd(value("mean"), value("sd")),
                "PPPASI, median [IQR]": fmt_median_iqr(value("median"), value("q1"), value("q3")),
                "% change, mean (SD)": fmt_mean_sd(change("mean"), change("sd")),
            }
        )
    return pd.DataFrame(rows)


def responder_table(
    ard: pd.DataFrame, visits: Sequence[str], cutoffs: Sequence[int], operator: str
) -> pd.DataFrame:
    """One row per visit and cut-off: responders n/N (%) and the confidence interval."""
    st = _Stats(ard, "efficacy")
    rows = []
    for label in visits:
        for cut in cutoffs:
            variable = f"PPPASI{cut}"
            if not st.has(label, variable, "", "x"):
                continue
            x, n = st.i(label, variable, "", "x"), st.i(label, variable, "", "N")
            pct = functools.partial(_percent, st, label, variable)
            rows.append(
                {
                    "Visit": label,
                    "Response": f"PPPASI{cut} (reduction {operator} {cut}%)",
                    "n/N (%)": f"{x}/{n} ({pct('estimate')}%)",
                    "95% CI, %": f"{pct('low')}{DASH}{pct('high')}",
                }
            )
    return pd.DataFrame(rows, columns=["Visit", "Response", "n/N (%)", "95% CI, %"])


def _percent(st: _Stats, label: str, variable: str, stat: str) -> str:
    return _num(100 * st.f(label, variable, "", stat), 1)


def pga_table(ard: pd.DataFrame, visits: Sequence[str]) -> pd.DataFrame:
    st = _Stats(ard, "pga")
    rows = []
    for label in visits:
        row = {"Visit": label, "n": str(st.i(label, "PGA", "", "N"))}
        for grade in range(5):
            level = str(grade)
            row[f"PGA {grade}"] = fmt_n_pct(
                st.i(label, "PGA", level, "n"), st.f(label, "PGA", level, "pct")
            )
        row["PGA 0/1 [95% CI]"] = (
            st.ci(label, "PGA 0/1") if st.has(label, "PGA 0/1", "", "x") else ""
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _subject_rows(
    ard: pd.DataFrame, table: str, name: Callable[[str, str, str], str] | None = None
) -> list[tuple[str, str]]:
    st = _Stats(ard, table)
    rows = []
    keys = st.part[["group", "variable", "level"]].drop_duplicates().itertuples(index=False)
    for group, variable, level in keys:
        label = name(group, variable, level) if name else f"{variable} {level}".strip()
        rows.append(
            (
                label,
                fmt_n_pct(st.i(group, variable, level, "n"), st.f(group, variable, level, "pct")),
            )
        )
    return rows


def ae_overview_table(ard: pd.DataFrame, n: int) -> pd.DataFrame:
    rows = _subject_rows(ard, "ae_overview")
    return pd.DataFrame(rows, columns=["Subjects with", f"n (%) of N={n}"])


def ae_soc_pt_table(ard: pd.DataFrame, n: int) -> pd.DataFrame:
    rows = _subject_rows(ard, "ae_soc_pt", lambda g, v, _lv: v if v == g else f"    {v}")
    return pd.DataFrame(
        rows, columns=["System organ class / Preferred term", f"Subjects, n (%) of N={n}"]
    )


def lab_table(ard: pd.DataFrame, n: int) -> pd.DataFrame:
    alerts = _subject_rows(ard, "lab_alerts")
    grades = _subject_rows(ard, "lab_grades", lambda _g, v, lv: f"{v}: worst CTCAE grade {lv}")
    return pd.DataFrame(
        alerts + grades, columns=["Lab alert or grade", f"Subjects, n (%) of N={n}"]
    )


def to_html(frame: pd.DataFrame) -> str:
    """A table as escaped HTML; cells that start with four spaces are indented."""
    marker = "\x00indent\x00"
    marked = frame.map(
        lambda v: marker + v[4:] if isinstance(v, str) and v.startswith("    ") else v
    )
    html = marked.to_html(index=False, escape=True, border=0, classes="table", na_rep="")
    return html.replace(f"<td>{marker}", '<td class="indent">')
