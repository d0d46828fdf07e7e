"""Derivations on small inline frames with hand-computed expectations; inputs unchanged."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from pustula.analysis.derive import (
    Imputation,
    derive_param_imputed,
    derive_time_to_response,
    derive_var_base,
    derive_var_chg,
    derive_var_pga_response,
    derive_var_responders,
)

D = pd.Timestamp


def _bds() -> pd.DataFrame:
    rows = [
        # subject A: screening value, then a day-0 value (the baseline), then two visits
        ("A", "PPPASI", "Screen", -1.0, D("2024-02-26"), 30.0),
        ("A", "PPPASI", "Week 0", 0.0, D("2024-03-04"), 20.0),
        ("A", "PPPASI", "Week 4", 4.0, D("2024-04-01"), 10.0),  # exactly -50 %
        ("A", "PPPASI", "Week 12", 12.0, D("2024-05-27"), 4.0),  # exactly -80 %
        # subject B: week-0 value missing, so the screening value is the baseline
        ("B", "PPPASI", "Screen", -1.0, D("2024-02-20"), 24.6),
        ("B", "PPPASI", "Week 0", 0.0, D("2024-03-04"), np.nan),
        ("B", "PPPASI", "Week 4", 4.0, D("2024-04-01"), 12.3),  # exactly -50 % in tenths
        ("A", "PGA", "Week 0", 0.0, D("2024-03-04"), 3.0),
        ("A", "PGA", "Week 12", 12.0, D("2024-05-27"), 1.0),
        ("B", "PGA", "Week 0", 0.0, D("2024-03-04"), 2.0),
        ("B", "PGA", "Week 12", 12.0, D("2024-05-27"), 1.0),
    ]
    frame = pd.DataFrame(rows, columns=["USUBJID", "PARAMCD", "AVISIT", "AVISITN", "ADT", "AVAL"])
    frame["TRTSDT"] = D("2024-03-04")
    frame["ADY"] = (frame["ADT"] - frame["TRTSDT"]).dt.days + 1
    frame["DTYPE"] = None
    return frame


def test_baseline_is_the_last_non_missing_value_on_or_before_the_first_dose() -> None:
    bds = _bds()
    before = bds.copy()
    out = derive_var_base(bds)
    pd.testing.assert_frame_equal(bds, before)  # input unchanged
    base = out.groupby(["USUBJID", "PARAMCD"])["BASE"].first().to_dict()
    assert base == {
        ("A", "PGA"): 3.0,
        ("A", "PPPASI"): 20.0,
        ("B", "PGA"): 2.0,
        ("B", "PPPASI"): 24.6,
    }
    flagged = out[out["ABLFL"] == "Y"][["USUBJID", "PARAMCD", "AVISIT"]].to_numpy().tolist()
    assert flagged == [
        ["A", "PPPASI", "Week 0"],
        ["B", "PPPASI", "Screen"],
        ["A", "PGA", "Week 0"],
        ["B", "PGA", "Week 0"],
    ]


def test_change_and_percent_change() -> None:
    out = derive_var_chg(derive_var_base(_bds()))
    a = out[(out["USUBJID"] == "A") & (out["PARAMCD"] == "PPPASI")].set_index("AVISIT")
    assert a.loc["Week 4", "CHG"] == -10.0
    assert a.loc["Week 12", "PCHG"] == pytest.approx(-80.0)  # (4 - 20) / 20


def _responders(operator: str) -> pd.DataFrame:
    out = derive_var_chg(derive_var_base(_bds()))
    return derive_var_responders(out, cutoffs=(50, 80), operator=operator)  # type: ignore[arg-type]


def test_cut_offs_are_inclusive_with_greater_or_equal_and_exact_in_tenths() -> None:
    out = _responders(">=").set_index(["USUBJID", "PARAMCD", "AVISIT"])
    # 24.6 -> 12.3 is exactly 50 %; in floats (12.3 - 24.6) / 24.6 * 100 is not exactly -50
    assert out.loc[("B", "PPPASI", "Week 4"), "CRIT1FL"] == "Y"
    assert out.loc[("A", "PPPASI", "Week 4"), ["CRIT1FL", "CRIT2FL"]].tolist() == ["Y", "N"]
    assert out.loc[("A", "PPPASI", "Week 12"), "CRIT2FL"] == "Y"
    assert out.loc[("A", "PPPASI", "Week 12"), "CRIT2"] == "PCHG <= -80"
    assert out.loc[("A", "PPPASI", "Week 0"), "CRIT1FL"] is None  # baseline: no flag
    assert out.loc[("A", "PGA", "Week 12"), "CRIT1FL"] is None  # other parameter


def test_strictly_greater_excludes_the_cut_off() -> None:
    out = _responders(">").set_index(["USUBJID", "PARAMCD", "AVISIT"])
    assert out.loc[("B", "PPPASI", "Week 4"), "CRIT1FL"] == "N"
    assert out.loc[("A", "PPPASI", "Week 12"), ["CRIT1", "CRIT2FL"]].tolist() == ["PCHG < -50", "N"]


def test_pga_response_options() -> None:
    base = derive_var_base(_bds())
    plain = derive_var_pga_response(base).set_index(["USUBJID", "PARAMCD", "AVISIT"])
    assert plain.loc[("A", "PGA", "Week 12"), "CRIT1FL"] == "Y"
    assert plain.loc[("B", "PGA", "Week 12"), "CRIT1FL"] == "Y"
    strict = derive_var_pga_response(base, baseline_min=3, min_improvement=2).set_index(
        ["USUBJID", "PARAMCD", "AVISIT"]
    )
    assert strict.loc[("A", "PGA", "Week 12"), "CRIT1FL"] == "Y"  # 3 -> 1: two grades
    assert strict.loc[("B", "PGA", "Week 12"), "CRIT1FL"] is None  # baseline 2 < 3: not analysed
    two_grades = derive_var_pga_response(base, min_improvement=2).set_index(
        ["USUBJID", "PARAMCD", "AVISIT"]
    )
    assert two_grades.loc[("B", "PGA", "Week 12"), "CRIT1FL"] == "N"  # 2 -> 1: one grade only


VISITS = [("Week 4", 4.0), ("Week 12", 12.0)]


def test_imputation_adds_labelled_rows_only_for_missed_visits() -> None:
    base = derive_var_base(_bds())
    assert len(derive_param_imputed(base, visits=VISITS, method="OC")) == len(base)

    def added(method: Imputation) -> list[tuple[str, str, str, float]]:
        rows = derive_param_imputed(base, visits=VISITS, method=method)
        rows = rows[rows["DTYPE"] == "LOCF"]
        return sorted(zip(rows["USUBJID"], rows["PARAMCD"], rows["AVISIT"], rows["AVAL"],
                          strict=True))  # fmt: skip

    # B missed week 12 (PPPASI): carries week 4's 12.3. A and B missed PGA at week 4, with
    # only the baseline before it: LOCF carries post-baseline values only, so they stay
    # missing (carrying the baseline would be BOCF under LOCF's name) ...
    assert added("LOCF") == [("B", "PPPASI", "Week 12", 12.3)]
    # ... and LOCF_BASELINE, the rule that counts the baseline as an observation, carries it
    assert added("LOCF_BASELINE") == [
        ("A", "PGA", "Week 4", 3.0),
        ("B", "PGA", "Week 4", 2.0),
        ("B", "PPPASI", "Week 12", 12.3),
    ]
    nri = derive_var_responders(
        derive_var_chg(derive_param_imputed(base, visits=VISITS, method="NRI")), cutoffs=(50,)
    )
    row = nri[(nri["USUBJID"] == "B") & (nri["PARAMCD"] == "PPPASI") & (nri["AVISIT"] == "Week 12")]
    assert row["DTYPE"].tolist() == ["NRI"]
    assert row["CRIT1FL"].tolist() == ["N"]


def test_planned_weeks_may_be_given_as_whole_numbers() -> None:
    """Weeks typed as 4 and 12 gave pandas' 'incompatible merge keys' error before."""
    base = derive_var_base(_bds())
    as_floats = derive_param_imputed(base, visits=VISITS, method="LOCF")
    as_ints = derive_param_imputed(base, visits=[("Week 4", 4), ("Week 12", 12)], method="LOCF")
    pd.testing.assert_frame_equal(as_ints, as_floats)


def test_time_to_first_response() -> None:
    out = derive_time_to_response(derive_var_chg(derive_var_base(_bds())), cutoff=80)
    # A reaches 80 % at week 12 (day 85); B never does and is censored at its last visit (day 29)
    assert out.set_index("USUBJID")[["AVAL", "CNSR"]].to_dict("index") == {
        "A": {"AVAL": 85.0, "CNSR": 0},
        "B": {"AVAL": 29.0, "CNSR": 1},
    }


# --- arguments and required columns are checked, with errors from the exception tree ------


def test_a_missing_column_is_named() -> None:
    from pustula.errors import AnalysisError

    with pytest.raises(AnalysisError, match="derive_var_chg needs the column BASE"):
        derive_var_chg(pd.DataFrame({"AVAL": [1.0]}))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"operator": "=>"}, "operator must be one of '>=', '>'; got '=>'"),
        ({"cutoffs": (0,)}, "cutoffs must be whole percents from 1 to 100"),
        ({"cutoffs": (True,)}, "cutoffs must be whole percents"),
        ({"baseline_zero": "responder"}, "baseline_zero must be one of"),
    ],
)
def test_responder_options_are_never_guessed(options: dict[str, object], message: str) -> None:
    from pustula.errors import AnalysisError

    bds = derive_var_chg(derive_var_base(_bds()))
    with pytest.raises(AnalysisError, match=re.escape(message)):
        derive_var_responders(bds, **options)  # type: ignore[arg-type]


def test_a_baseline_of_zero_is_not_evaluable_or_a_non_responder() -> None:
    bds = derive_var_chg(derive_var_base(_bds()))
    zero = bds.assign(AVAL=0.0, BASE=0.0)
    flagged = derive_var_responders(zero, cutoffs=(50,))
    post = (flagged["ADT"] > flagged["TRTSDT"]) & flagged["PARAMCD"].eq("PPPASI")
    # (BASE − AVAL)·100 ≥ 50·BASE is 0 ≥ 0, which was "Y": now no flag at all
    assert flagged.loc[post, "CRIT1FL"].isna().all()
    strict = derive_var_responders(zero, cutoffs=(50,), baseline_zero="non_responder")
    assert (strict.loc[post, "CRIT1FL"] == "N").all()
