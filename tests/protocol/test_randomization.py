"""The ``randomization:`` block of a protocol: what it accepts, and every inconsistency it
names at once."""

from __future__ import annotations

from typing import Any

import pytest

from pustula.checks.vocabulary import CODELISTS
from pustula.errors import ProtocolError
from pustula.protocol import parse_protocol
from pustula.protocol.randomization import RECORDED_CODES

ARMS = [{"code": "T", "label": "Active", "ratio": 2}, {"code": "P", "label": "Placebo"}]
VISITS = [{"code": "W0", "label": "Week 0", "day": 0, "baseline": True}]


def _protocol(randomization: dict[str, Any], arms: list[dict[str, Any]] = ARMS) -> Any:
    return parse_protocol({"id": "RCT", "title": "t", "arms": arms, "visits": VISITS,
                           "randomization": randomization})  # fmt: skip


def test_a_stratified_block_design_with_a_2_to_1_ratio_loads() -> None:
    p = _protocol(
        {
            "block_sizes": [3, 6],
            "slots_per_stratum": 30,
            "blinding": "double",
            "strata": [{"factor": "site"}, {"factor": "pppasi_band", "cuts": [20]}],
        }
    )
    assert p.randomized and p.randomization.blinded
    assert [a.ratio for a in p.arms] == [2, 1]


def test_a_protocol_without_the_block_is_not_randomized_and_arms_default_to_ratio_1() -> None:
    p = parse_protocol({"id": "S", "title": "t", "arms": [{"code": "A", "label": "a"}],
                        "visits": VISITS})  # fmt: skip
    assert not p.randomized and p.arms[0].ratio == 1


def test_every_inconsistency_is_named_in_one_message() -> None:
    with pytest.raises(ProtocolError) as caught:
        _protocol({"block_sizes": [4, 6], "slots_per_stratum": 4, "blinding": "single",
                   "strata": [{"factor": "smoking", "groups": {"ever": ["current", "formr"]}},
                              {"factor": "site"}, {"factor": "site"},
                              {"factor": "pppasi_band", "cuts": [30, 20]}]})  # fmt: skip
    message = str(caught.value)
    for words in (
        "block size 4 does not fit the allocation ratio 2:1 (a block must be a multiple of 3)",
        "`slots_per_stratum` (4) must hold at least one block of the largest size (6)",
        "`smoking` group answer `formr` is not recorded",
        "`smoking` answer `never` is in no group",
        "stratification factor `site` is listed twice",
        "PPPASI band `cuts` must rise strictly",
    ):
        assert words in message


def test_a_stratum_that_no_recorded_field_fills_is_refused_by_name() -> None:
    with pytest.raises(ProtocolError, match="factor"):
        _protocol({"block_sizes": [3], "slots_per_stratum": 3, "blinding": "open",
                   "strata": [{"factor": "eye_colour"}]})  # fmt: skip


def test_one_arm_cannot_be_randomized() -> None:
    with pytest.raises(ProtocolError, match="at least two arms"):
        _protocol(
            {"block_sizes": [2], "slots_per_stratum": 2, "blinding": "open"},
            arms=[{"code": "T", "label": "Active", "ratio": 2}],
        )


def test_minimization_needs_factors_and_no_blocks() -> None:
    with pytest.raises(ProtocolError) as caught:
        _protocol({"method": "minimization", "block_sizes": [3], "blinding": "double"})
    assert "minimization has no blocks" in str(caught.value)
    assert "minimization needs at least one factor" in str(caught.value)


def test_two_arms_with_one_code_are_refused() -> None:
    with pytest.raises(ProtocolError, match="own code"):
        _protocol(
            {"block_sizes": [2], "slots_per_stratum": 2, "blinding": "open"},
            arms=[{"code": "T", "label": "a"}, {"code": "T", "label": "b"}],
        )


@pytest.mark.parametrize("factor", sorted(RECORDED_CODES))
def test_the_recorded_answers_a_stratum_groups_are_the_forms_codelists(factor: str) -> None:
    assert set(RECORDED_CODES[factor]) == set(CODELISTS[factor])
