"""CTCAE v5.0 lab grades (shared/domain/ppp.md thresholds) and unit conversion."""

from __future__ import annotations

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
    with pytest.raises(DataValidationError, match="haemoglobin in `mmol/L` cannot be converted"):
        convert_unit("haemoglobin", 5, "mmol/L", to="g/dL")
