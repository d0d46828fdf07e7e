"""PPPASI: reference cases, area bands, warnings and invalid input.

Sources: Bhushan et al. 2001 (doi:10.1046/j.1365-2133.2001.04411.x) for the formula, and the
hand-calculated worked example in docs/clinical/instruments.md.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pustula.errors import ScoringInputError
from pustula.scoring.pppasi import (
    PPPASI,
    REGIONS,
    area_score_from_percent,
    compute_pppasi,
)


def region(e: int = 0, p: int = 0, d: int = 0, **area: float) -> dict[str, float]:
    return {"erythema": e, "pustules": p, "desquamation": d, **(area or {"area_pct": 0})}


WORKED_EXAMPLE = {
    "right_palm": region(2, 3, 1, area_pct=25),
    "left_palm": region(1, 1, 1, area_pct=5),
    "right_sole": region(3, 4, 2, area_pct=60),
    "left_sole": region(0, 0, 0, area_pct=0),
}


def test_worked_example_of_the_domain_doc_is_13_8() -> None:
    # Hand calculation (docs/clinical/instruments.md):
    # 0.2*6*2 = 2.4; 0.2*3*1 = 0.6; 0.3*9*4 = 10.8; 0 -> 13.8
    result = compute_pppasi(WORKED_EXAMPLE)
    assert result.total == 13.8
    assert result.display_total == "13.8"
    assert dict(result.subscores) == {
        "right_palm": 2.4,
        "left_palm": 0.6,
        "right_sole": 10.8,
        "left_sole": 0.0,
    }
    assert result.details["right_sole_area_score"] == 4
    assert result.band == "severe"  # 10-19 severe (Indian m-PPPASI bands)
    assert result.warnings == ()
    assert (result.instrument, result.version) == ("pppasi", "1.0")


def test_maximum_is_72_and_minimum_is_0() -> None:
    worst = {r: region(4, 4, 4, area_pct=100) for r in REGIONS}
    clear = {r: region() for r in REGIONS}
    # 12 * 6 * (0.2 + 0.2 + 0.3 + 0.3) = 72
    assert compute_pppasi(worst).total == 72.0
    assert compute_pppasi(worst).band == "very severe"
    assert compute_pppasi(clear).total == 0.0
    assert compute_pppasi(clear).band == "mild"


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        (0, 0),
        (0.1, 1),
        (9.9, 1),
        (10, 2),
        (29.9, 2),
        (30, 3),
        (49.9, 3),
        (50, 4),
        (69.9, 4),
        (70, 5),
        (89.9, 5),
        (90, 6),
        (100, 6),
    ],
)
def test_area_band_boundaries(percent: float, expected: int) -> None:
    # Bands: 0 -> 0%; 1 -> >0 to <10%; 2 -> 10 to <30%; 3 -> 30 to <50%;
    # 4 -> 50 to <70%; 5 -> 70 to <90%; 6 -> 90 to 100% (Bhushan 2001).
    assert area_score_from_percent(percent) == expected
    one_region = {r: region() for r in REGIONS}
    one_region["left_sole"] = region(1, 0, 0, area_pct=percent)
    scored = compute_pppasi(one_region)
    assert scored.details["left_sole_area_score"] == expected
    assert scored.total == pytest.approx(0.3 * 1 * expected)


def test_area_score_may_be_given_directly() -> None:
    direct = {
        r: {**v, "area_score": area_score_from_percent(v["area_pct"])}
        for r, v in WORKED_EXAMPLE.items()
    }
    for v in direct.values():
        del v["area_pct"]
    assert compute_pppasi(direct).total == 13.8


@pytest.mark.parametrize(
    ("left_sole", "warning"),
    [
        (
            region(2, 1, 0, area_pct=0),
            "left_sole: signs are scored but the area score is 0, so the region adds 0",
        ),
        (
            region(0, 0, 0, area_pct=40),
            "left_sole: area is involved but erythema, pustules and desquamation are all 0",
        ),
    ],
)
def test_inconsistent_region_warns_and_changes_nothing(
    left_sole: dict[str, float], warning: str
) -> None:
    result = compute_pppasi({**WORKED_EXAMPLE, "left_sole": left_sole})
    assert result.warnings == (warning,)
    assert result.total == 13.8
    assert result.subscores["left_sole"] == 0.0


def test_totals_are_exact_decimals_not_float_sums() -> None:
    # 0.2*6*2 computed in floats is 2.4000000000000004; PPPASI works in tenths.
    result = compute_pppasi(
        {**{r: region() for r in REGIONS}, "right_palm": region(2, 2, 2, area_pct=20)}
    )
    assert result.total == 2.4


def with_change(path: tuple[str, ...], value: object) -> dict[str, object]:
    data: dict[str, object] = {r: dict(v) for r, v in WORKED_EXAMPLE.items()}
    target: dict[str, object] = data
    for key in path[:-1]:
        target = target[key]  # type: ignore[assignment]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


DELETE = object()

INVALID = [
    (
        ("right_palm", "erythema"),
        5,
        "erythema for right_palm must be a whole number from 0 to 4; got 5",
    ),
    (
        ("right_palm", "erythema"),
        -1,
        "erythema for right_palm must be a whole number from 0 to 4; got -1",
    ),
    (
        ("left_sole", "pustules"),
        2.5,
        "pustules for left_sole must be a whole number from 0 to 4; got 2.5",
    ),
    (
        ("left_sole", "pustules"),
        "2",
        "pustules for left_sole must be a whole number from 0 to 4; got '2' (text)",
    ),
    (
        ("left_sole", "pustules"),
        True,
        "pustules for left_sole must be a whole number from 0 to 4; got True",
    ),
    (
        ("left_sole", "pustules"),
        None,
        "pustules for left_sole must be a whole number from 0 to 4; got nothing (the value is missing)",
    ),
    (
        ("right_palm", "area_pct"),
        140,
        "area_pct for right_palm must be a number from 0 to 100; got 140",
    ),
    (
        ("right_palm", "area_pct"),
        -0.5,
        "area_pct for right_palm must be a number from 0 to 100; got -0.5",
    ),
    (
        ("right_palm", "area_pct"),
        math.nan,
        "area_pct for right_palm must be a number from 0 to 100; got nan",
    ),
    (("right_palm", "desquamation"), DELETE, "right_palm is missing field(s) desquamation"),
    (
        ("right_palm", "area_pct"),
        DELETE,
        "right_palm needs exactly one of area_pct (0-100) or area_score (0-6); got neither",
    ),
    (
        ("right_palm", "area_score"),
        2,
        "right_palm needs exactly one of area_pct (0-100) or area_score (0-6); got area_pct and area_score",
    ),
    (
        ("right_palm", "induration"),
        1,
        "right_palm has unknown field(s) induration; allowed fields are area_pct, area_score, desquamation, erythema, pustules",
    ),
    (("left_sole",), DELETE, "PPPASI input is missing field(s) left_sole"),
    (
        ("scalp",),
        region(),
        "PPPASI input has unknown field(s) scalp; allowed fields are left_palm, left_sole, right_palm, right_sole",
    ),
    (
        ("left_sole",),
        3,
        "left_sole must be a mapping of erythema, pustules, desquamation and area_pct or area_score; got int",
    ),
]


@pytest.mark.parametrize(("path", "value", "message"), INVALID)
def test_invalid_input_is_refused_with_a_clear_message(
    path: tuple[str, ...], value: object, message: str
) -> None:
    with pytest.raises(ScoringInputError) as caught:
        compute_pppasi(with_change(path, value))  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_area_score_out_of_range_names_the_field() -> None:
    data = with_change(("right_palm", "area_pct"), DELETE)
    data["right_palm"]["area_score"] = 7  # type: ignore[index]
    with pytest.raises(ScoringInputError) as caught:
        compute_pppasi(data)  # type: ignore[arg-type]
    assert caught.value.field == "right_palm.area_score"
    assert caught.value.value == 7
    assert (
        str(caught.value) == "area_score for right_palm must be a whole number from 0 to 6; got 7"
    )


def test_integral_float_and_numpy_integers_are_whole_numbers() -> None:
    data = with_change(("right_palm", "erythema"), 2.0)
    data["left_palm"]["pustules"] = np.int8(1)  # type: ignore[index]
    assert compute_pppasi(data).total == 13.8  # type: ignore[arg-type]


def flat(nested: dict[str, dict[str, float]]) -> dict[str, float]:
    return {f"{r}_{k}": v for r, fields in nested.items() for k, v in fields.items()}


def test_registry_instrument_scores_flat_and_nested_input_alike() -> None:
    assert PPPASI.score(flat(WORKED_EXAMPLE)) == compute_pppasi(WORKED_EXAMPLE)
    assert PPPASI.score(WORKED_EXAMPLE) == compute_pppasi(WORKED_EXAMPLE)


def test_flat_input_with_unknown_prefix_is_refused() -> None:
    with pytest.raises(ScoringInputError, match="unknown field palm_erythema"):
        PPPASI.score({"palm_erythema": 1})


def test_bulk_frame_gives_the_single_scores_with_subscores_and_flags() -> None:
    rows = [
        flat(WORKED_EXAMPLE),
        flat({r: region(4, 4, 4, area_pct=100) for r in REGIONS}),
        flat({**WORKED_EXAMPLE, "left_sole": region(1, 0, 0, area_pct=0)}),
    ]
    scored = PPPASI.score_frame(pd.DataFrame(rows))
    assert scored["total"].tolist() == [13.8, 72.0, 13.8]
    assert scored["band"].astype(str).tolist() == ["severe", "very severe", "severe"]
    assert scored["right_sole_subscore"].tolist() == [10.8, 21.6, 10.8]  # 0.3 * 12 * 6 = 21.6
    assert scored["right_palm_area_score"].tolist() == [2, 6, 2]
    assert scored["inconsistent"].tolist() == [False, False, True]


def test_bulk_integer_percentages_use_the_same_bands_as_floats() -> None:
    percent = np.arange(0, 101, dtype=np.uint8)
    frame = pd.DataFrame(
        {
            f"{r}_{s}": np.ones(101, np.uint8)
            for r in REGIONS
            for s in ("erythema", "pustules", "desquamation")
        }
    )
    as_int = frame.assign(**{f"{r}_area_pct": percent for r in REGIONS})
    as_float = frame.assign(**{f"{r}_area_pct": percent.astype(float) for r in REGIONS})
    expected = [area_score_from_percent(float(p)) for p in percent]
    assert PPPASI.score_frame(as_int)["left_sole_area_score"].tolist() == expected
    assert PPPASI.score_frame(as_float)["left_sole_area_score"].tolist() == expected


def test_bulk_across_many_blocks_equals_single_scoring() -> None:
    # More rows than two internal blocks, uint8 storage as in the benchmark.
    rng = np.random.default_rng(7)
    n = 70_001
    arrays = {
        f"{r}_{s}": rng.integers(0, 5, n, dtype=np.uint8)
        for r in REGIONS
        for s in ("erythema", "pustules", "desquamation")
    }
    arrays |= {f"{r}_area_pct": rng.integers(0, 101, n, dtype=np.uint8) for r in REGIONS}
    bulk = PPPASI.score_arrays(arrays)
    for i in range(0, n, 997):
        single = PPPASI.score({k: int(v[i]) for k, v in arrays.items()})
        assert bulk.total[i] == single.total
        assert bulk.columns["right_sole_subscore"][i] == single.subscores["right_sole"]  # type: ignore[index]
    # Independent check in floats: sum of weight * signs * area, to rounding.
    expected = sum(
        w
        * sum(arrays[f"{r}_{s}"].astype(float) for s in ("erythema", "pustules", "desquamation"))
        * np.array([area_score_from_percent(float(p)) for p in range(101)])[arrays[f"{r}_area_pct"]]
        for r, w in (
            ("right_palm", 0.2),
            ("left_palm", 0.2),
            ("right_sole", 0.3),
            ("left_sole", 0.3),
        )
    )
    np.testing.assert_allclose(bulk.total, expected, atol=1e-9)


# Bhushan M et al. Br J Dermatol 2001;145:546-553: palms 0.2, soles 0.3 (the total of a
# region with every sign 4 over 90 % or more is weight × 12 × 6 = weight × 72).
PUBLISHED_WEIGHTS = {"right_palm": 0.2, "left_palm": 0.2, "right_sole": 0.3, "left_sole": 0.3}


@pytest.mark.parametrize("only", REGIONS)
def test_each_region_scores_with_its_published_weight(only: str) -> None:
    """The weights that score are the published ones, region by region (before, the
    published constant and the one the computation used were two, and could disagree)."""
    from pustula.scoring.pppasi import REGION_WEIGHTS

    items = {r: region() for r in REGIONS}
    items[only] = region(4, 4, 4, area_pct=95)
    assert compute_pppasi(items).total == pytest.approx(PUBLISHED_WEIGHTS[only] * 72)
    assert dict(REGION_WEIGHTS) == PUBLISHED_WEIGHTS
    weights = {r["code"]: r["weight"] for r in PPPASI.metadata()["regions"]}
    assert weights == PUBLISHED_WEIGHTS


@pytest.mark.parametrize(
    ("total", "band"),
    [(0.0, "mild"), (5.0, "mild"), (5.9, "mild"), (6.0, "moderate"), (9.9, "moderate"),
     (10.0, "severe"), (19.9, "severe"), (20.0, "very severe"), (72.0, "very severe")],
)  # fmt: skip
def test_severity_bands_at_every_edge_single_and_bulk(total: float, band: str) -> None:
    """Indian m-PPPASI bands: 0-5 mild, 6-9 moderate, 10-19 severe, 20-72 very severe; a
    fraction between two published bands belongs to the lower one (5.9 is mild)."""
    from pustula.scoring.pppasi import INDIAN_MPPPASI_BANDS as BANDS

    assert BANDS.band_of(total) == band
    code = BANDS.codes_of(np.array([round(total * 10)]), scale=10)[0]
    assert BANDS.labels[code] == band
