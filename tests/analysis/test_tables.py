"""Formatting is tested apart from the numbers: strings in, strings out."""

from __future__ import annotations

import pandas as pd
import pytest

from pustula.analysis.tables import (
    efficacy_table,
    fmt_ci,
    fmt_mean_sd,
    fmt_median_iqr,
    fmt_n_pct,
    responder_table,
    to_html,
)


@pytest.mark.parametrize(
    ("args", "text"),
    [((5, 83.33333), "5 (83.3%)"), ((0, 0.0), "0"), ((6, 100.0), "6 (100.0%)")],
)
def test_n_pct(args: tuple[int, float], text: str) -> None:
    assert fmt_n_pct(*args) == text


def test_ci_is_in_percent_with_an_en_dash() -> None:
    assert fmt_ci(5, 6, 5 / 6, 0.358765, 0.995789) == "5/6 (83.3%) [35.9–99.6]"
    assert fmt_ci(0, 6, 0.0, 0.0, 0.459) == "0/6 (0.0%) [0.0–45.9]"


def test_missing_values_show_ne() -> None:
    assert fmt_mean_sd(4.0, float("nan")) == "4.0 (NE)"
    # half up on the decimal value, as SAS and R users expect; half to even on request
    assert fmt_median_iqr(1.0, 0.5, 2.25) == "1.0 [0.5–2.3]"
    assert fmt_median_iqr(1.0, 0.5, 2.25, rounding="half_even") == "1.0 [0.5–2.2]"


def test_efficacy_table_lays_out_ard_rows() -> None:
    rows = [
        ("efficacy", "Week 4", "PPPASI", "", s, v)
        for s, v in [
            ("n", 6),
            ("mean", 7.0),
            ("sd", 4.7),
            ("median", 6.0),
            ("q1", 4.2),
            ("q3", 9.1),
        ]
    ]
    rows += [
        ("efficacy", "Week 4", "PPPASI50", "", s, v)
        for s, v in [
            ("x", 6),
            ("N", 6),
            ("not_evaluable", 0),
            ("estimate", 1.0),
            ("low", 0.5407),
            ("high", 1.0),
            ("posterior_p_above", 127 / 128),
        ]
    ]
    ard = pd.DataFrame(rows, columns=["table", "group", "variable", "level", "stat", "value"])
    table = efficacy_table(ard, ["Week 4"])
    assert table.loc[0, "PPPASI, median [IQR]"] == "6.0 [4.2–9.1]"
    responders = responder_table(ard, ["Week 4"], (50, 80), ">=")
    assert responders.to_dict("records") == [
        {
            "Visit": "Week 4",
            "Response": "PPPASI50 (reduction ≥ 50%)",
            "n/N (%)": "6/6 (100.0%)",
            "95% CI, %": "54.1–100.0",
            "P(rate > 50%)": "0.992",
            "Not evaluable": "0",
        }
    ]
    assert table.loc[0, "% change, mean (SD)"] == ""  # no post-baseline change to show


def test_html_escapes_and_indents() -> None:
    html = to_html(pd.DataFrame({"a": ["    <b>x</b>"]}))
    assert '<td class="indent">&lt;b&gt;x&lt;/b&gt;</td>' in html
