"""Pain and itch numeric rating scales: whole numbers 0-10 (docs/clinical/instruments.md)."""

from __future__ import annotations

import pytest

from pustula.errors import ScoringInputError
from pustula.scoring.nrs import ITCH_NRS, PAIN_NRS, compute_nrs


@pytest.mark.parametrize("value", [0, 5, 10])
def test_valid_scores_are_their_own_total(value: int) -> None:
    assert compute_nrs(value, scale="pain").total == value
    assert ITCH_NRS.score({"itch_nrs": value}).instrument == "itch_nrs"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (11, "pain NRS must be a whole number from 0 to 10; got 11"),
        (-1, "pain NRS must be a whole number from 0 to 10; got -1"),
        (4.5, "pain NRS must be a whole number from 0 to 10; got 4.5"),
        (55, "pain NRS must be a whole number from 0 to 10; got 55"),  # a VAS in mm is not an NRS
    ],
)
def test_out_of_range_is_refused(value: object, message: str) -> None:
    with pytest.raises(ScoringInputError) as caught:
        PAIN_NRS.score({"pain_nrs": value})
    assert str(caught.value) == message
    assert caught.value.field == "pain_nrs"
