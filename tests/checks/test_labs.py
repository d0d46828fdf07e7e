"""CTCAE v5.0 lab grades (NCI CTCAE v5.0, 2017) and unit conversion."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pustula.checks import convert_unit, ctcae_grade
from pustula.errors import DataValidationError


@pytest.mark.parametrize(
    ("ratio", "grade"),
    # ALT/AST x ULN: grade 1 > 1-3, grade 2 > 3-5, grade 3 > 5-20, grade 4 > 20
    [(1.0, 0), (1.01, 1), (3.0, 1), (3.01, 2), (5.0, 2), (5.01, 3), (20.0, 3), (20.01, 4)],
)
def test_alt_grades_at_every_edge(ratio: float, grade: int) -> None:
    assert ctcae_grade("alt", ratio * 100, upper_limit=100) == grade
    assert ctcae_grade("ast", ratio * 100, upper_limit=100) == grade


@pytest.mark.parametrize(
    ("count", "grade"),
    # neutrophils per mm3: grade 1 < LLN-1500, 2 < 1500-1000, 3 < 1000-500, 4 < 500
    [(2000, 0), (1999, 1), (1500, 1), (1499, 2), (1000, 2), (999, 3), (500, 3), (499, 4)],
)
def test_neutrophil_grades_at_every_edge(count: float, grade: int) -> None:
    assert ctcae_grade("neutrophils", count, lower_limit=2000) == grade


def test_without_limits_a_grade_is_not_guessed() -> None:
    assert ctcae_grade("alt", 500) is None
    assert ctcae_grade("neutrophils", 1700) is None
    assert ctcae_grade("neutrophils", 1400) == 2


def test_units() -> None:
    assert convert_unit("lymphocytes", 0.5, "10^9/L", to="/mm3") == 500
    assert convert_unit("haemoglobin", 85, "g/L", to="g/dL") == 8.5
    with pytest.raises(DataValidationError, match="haemoglobin in mmol/L cannot be converted"):
        convert_unit("haemoglobin", 5, "mmol/L", to="g/dL")


# --- CTCAE v5.0 at every boundary, in exact decimal arithmetic --------------------------------


def _liver_reference(value: Decimal, uln: Decimal, baseline: Decimal | None = None) -> int:
    """CTCAE v5.0 ALT/AST increased, written out from the criteria's text in Decimals."""
    if baseline is not None and baseline > uln:
        ref = baseline
        if value > 20 * ref:
            return 4
        if value > 5 * ref:
            return 3
        if value > 3 * ref:
            return 2
        return 1 if value >= Decimal("1.5") * ref else 0
    if value > 20 * uln:
        return 4
    if value > 5 * uln:
        return 3
    if value > 3 * uln:
        return 2
    return 1 if value > uln else 0


ULNS = ["0.7", "0.55", "0.6", "33", "35", "40", "41", "45", "56", "0.85"]
MULTIPLES = ["1", "1.5", "3", "5", "20"]
STEP = {True: Decimal("0.01"), False: Decimal("0.001")}


def _boundary_values(uln: str, reference: str | None = None) -> list[Decimal]:
    ref = Decimal(reference or uln)
    step = STEP[ref >= 1]
    return [m * ref + d * step for m in map(Decimal, MULTIPLES) for d in (-1, 0, 1)]


def test_alt_grades_at_every_boundary_match_exact_decimals() -> None:
    # 10 ULNs × 5 multiples × (just below, on, just above) = 150 boundary cases per test
    wrong = [
        (str(v), uln)
        for uln in ULNS
        for v in _boundary_values(uln)
        for test in ("alt", "ast")
        if ctcae_grade(test, float(v), upper_limit=float(uln)) != _liver_reference(v, Decimal(uln))
    ]
    assert wrong == []
    # the case float arithmetic got wrong: 2.1 / 0.7 = 3.0000000000000004 in binary
    assert ctcae_grade("alt", 2.1, upper_limit=0.7) == 1


def test_alt_with_an_abnormal_baseline_grades_by_multiples_of_the_baseline() -> None:
    wrong = [
        (str(v), base)
        for uln, base in (("40", "60"), ("0.7", "1.1"), ("33", "49.5"))
        for v in _boundary_values(uln, base)
        if ctcae_grade(
            "alt",
            float(v),
            upper_limit=float(uln),
            baseline=float(base),
            baseline_upper_limit=float(uln),
        )
        != _liver_reference(v, Decimal(uln), Decimal(base))
    ]
    assert wrong == []
    # 130 U/L is 3.25 × ULN 40 (grade 2), but only 2.17 × an abnormal baseline of 60: grade 1
    assert ctcae_grade("alt", 130, upper_limit=40, baseline=60, baseline_upper_limit=40) == 1
    assert ctcae_grade("alt", 130, upper_limit=40, baseline=35, baseline_upper_limit=40) == 2
    assert ctcae_grade("alt", 80, upper_limit=40, baseline=60, baseline_upper_limit=40) == 0


def test_whether_the_baseline_was_abnormal_is_judged_by_its_own_upper_limit() -> None:
    """CTCAE v5.0 grades against the baseline only "if baseline was abnormal", i.e. above
    the upper limit of normal *of that baseline sample*. The case the check from outside
    found: baseline 24 (ULN 40: normal), later 2.1 with ULN 0.7 = exactly 3.0 × ULN,
    grade 1 by hand. Judged against the new ULN 0.7, the baseline 24 looked abnormal and
    2.1 < 1.5 × 24 gave grade 0."""
    assert ctcae_grade("alt", 2.1, upper_limit=0.7, baseline=24, baseline_upper_limit=40) == 1
    # the same baseline value above its own (lower) limit is abnormal: 2.17 × 60 → grade 1
    assert ctcae_grade("alt", 130, upper_limit=40, baseline=60, baseline_upper_limit=50) == 1
    # ... and below its own (higher) limit it is normal: 130 = 3.25 × ULN 40 → grade 2
    assert ctcae_grade("alt", 130, upper_limit=40, baseline=60, baseline_upper_limit=70) == 2
    # a baseline without its own limit is not taken as abnormal: graded by ULN (never lower)
    assert ctcae_grade("alt", 130, upper_limit=40, baseline=60) == 2


@pytest.mark.parametrize(
    ("si", "conventional"),
    [("0.5", 500), ("0.499", 499), ("1", 1000), ("0.999", 999), ("1.5", 1500), ("1.499", 1499)],
)
def test_neutrophil_grades_are_the_same_in_si_and_conventional_units(
    si: str, conventional: int
) -> None:
    per_mm3 = convert_unit("neutrophils", float(si), "10^9/L", to="/mm3")
    assert per_mm3 == conventional  # 10^9/L × 1000 exactly, no binary residue
    assert ctcae_grade("neutrophils", per_mm3, lower_limit=1800) == ctcae_grade(
        "neutrophils", conventional, lower_limit=1800
    )


def test_alt_grades_are_the_same_in_si_and_conventional_units() -> None:
    # 1 µkat/L is exactly 60 U/L; ULN 0.7 µkat/L is 42 U/L
    for ukat in ("2.1", "2.11", "3.5", "3.51", "14", "14.01"):
        u_per_l = convert_unit("alt", float(ukat), "ukat/L", to="U/L")
        assert ctcae_grade("alt", float(ukat), upper_limit=0.7) == ctcae_grade(
            "alt", u_per_l, upper_limit=42
        ), ukat
