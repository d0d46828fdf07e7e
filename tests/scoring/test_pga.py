"""PPP PGA, direct and composite.

Sources: the 5-point PPP PGA/IGA labels and the composite cut-points (spesolimab programme)
as given in docs/clinical/instruments.md: 0 if all three components are 0; 1 if 0 < mean < 1.5;
2 if 1.5 <= mean < 2.5; 3 if 2.5 <= mean < 3.5; 4 if mean >= 3.5.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from pustula.errors import ScoringInputError
from pustula.scoring.pga import PGA, PGA_COMPOSITE, compute_pga, compute_pga_composite


@pytest.mark.parametrize(
    ("grade", "label"),
    [(0, "clear"), (1, "almost clear"), (2, "mild"), (3, "moderate"), (4, "severe")],
)
def test_direct_grade_and_label(grade: int, label: str) -> None:
    result = compute_pga(grade)
    assert (result.total, result.band) == (float(grade), label)


@pytest.mark.parametrize(
    ("components", "mean", "grade"),
    [
        ((0, 0, 0), 0.0, 0),
        ((1, 0, 0), 1 / 3, 1),  # 0 < 0.33 < 1.5
        ((1, 1, 2), 4 / 3, 1),  # 1.33 < 1.5
        ((1, 2, 2), 5 / 3, 2),  # 1.5 <= 1.67 < 2.5
        ((2, 2, 3), 7 / 3, 2),  # 2.33 < 2.5
        ((2, 3, 3), 8 / 3, 3),  # 2.5 <= 2.67 < 3.5
        ((3, 3, 4), 10 / 3, 3),  # 3.33 < 3.5
        ((3, 4, 4), 11 / 3, 4),  # 3.67 >= 3.5
        ((4, 4, 4), 4.0, 4),
    ],
)
def test_composite_grade_at_each_cut_point(
    components: tuple[int, int, int], mean: float, grade: int
) -> None:
    e, p, s = components
    result = compute_pga_composite(erythema=e, pustules=p, scaling=s)
    assert result.total == grade
    assert result.details["mean"] == pytest.approx(mean)


def reference_grade(mean: float, all_zero: bool) -> int:
    """The published cut-points, written as plainly as the domain doc states them."""
    if all_zero:
        return 0
    if mean < 1.5:
        return 1
    if mean < 2.5:
        return 2
    if mean < 3.5:
        return 3
    return 4


def test_composite_matches_the_published_rule_on_all_125_combinations() -> None:
    combos = list(itertools.product(range(5), repeat=3))
    frame = pd.DataFrame(combos, columns=["pga_erythema", "pga_pustules", "pga_scaling"])
    bulk = PGA_COMPOSITE.score_frame(frame)["total"].tolist()
    for (e, p, s), in_bulk in zip(combos, bulk, strict=True):
        expected = reference_grade((e + p + s) / 3, e == p == s == 0)
        assert compute_pga_composite(erythema=e, pustules=p, scaling=s).total == expected
        assert in_bulk == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "PGA grade must be a whole number from 0 to 4; got 5"),
        (-1, "PGA grade must be a whole number from 0 to 4; got -1"),
        (1.5, "PGA grade must be a whole number from 0 to 4; got 1.5"),
        ("clear", "PGA grade must be a whole number from 0 to 4; got 'clear' (text)"),
    ],
)
def test_direct_grade_refuses_impossible_values(value: object, message: str) -> None:
    with pytest.raises(ScoringInputError) as caught:
        compute_pga(value)
    assert str(caught.value) == message


def test_composite_refuses_out_of_range_component() -> None:
    with pytest.raises(ScoringInputError) as caught:
        compute_pga_composite(erythema=1, pustules=6, scaling=1)
    assert str(caught.value) == "composite PGA pustules must be a whole number from 0 to 4; got 6"
    assert caught.value.field == "pga_pustules"


def test_registry_forms_refuse_unknown_fields() -> None:
    with pytest.raises(ScoringInputError, match="unknown field"):
        PGA.score({"pga": 1, "iga": 1})
    with pytest.raises(ScoringInputError, match="missing field"):
        PGA_COMPOSITE.score({"pga_erythema": 1, "pga_pustules": 1})


def test_a_refused_grade_names_the_field_the_form_shows_it_on() -> None:
    with pytest.raises(ScoringInputError) as raised:
        compute_pga(5)
    assert (raised.value.field, raised.value.value) == ("pga", 5)
