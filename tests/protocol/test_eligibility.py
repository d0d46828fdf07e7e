"""Eligibility rules: all/any/not over dotted fields; missing data are not evaluable."""

from __future__ import annotations

from typing import Any

import pytest

from pustula.errors import EligibilityError
from pustula.protocol import evaluate_eligibility, parse_protocol


def _protocol(rule: dict[str, Any], kind: str = "inclusion") -> Any:
    return parse_protocol({
        "id": "T", "title": "t", "arms": [{"code": "A", "label": "a"}],
        "visits": [{"code": "W0", "label": "Week 0", "day": 0, "baseline": True}],
        "eligibility": {kind: [{"id": "C1", "text": "criterion", "rule": rule}]},
    })  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "data", "passed"),
    [
        ({"field": "age", "op": ">=", "value": 18}, {"age": 18}, True),
        ({"field": "age", "op": ">=", "value": 18}, {"age": 17}, False),
        ({"field": "sex", "op": "in", "value": ["female", "male"]}, {"sex": "male"}, True),
        (
            {"field": "comorbidities", "op": "contains", "value": "sapho"},
            {"comorbidities": ["sapho"]},
            True,
        ),
        (
            {
                "all": [
                    {"field": "a", "op": "==", "value": 1},
                    {"field": "b", "op": "==", "value": 2},
                ]
            },
            {"a": 1, "b": 3},
            False,
        ),
        (
            {
                "any": [
                    {"field": "a", "op": "==", "value": 1},
                    {"field": "b", "op": "==", "value": 2},
                ]
            },
            {"a": 1, "b": 3},
            True,
        ),
        ({"not": {"field": "labs.anc", "op": "<", "value": 1000}}, {"labs": {"anc": 900}}, False),
    ],
)
def test_inclusion_rules(rule: dict[str, Any], data: dict[str, Any], passed: bool) -> None:
    assert evaluate_eligibility(_protocol(rule), data).eligible is passed


def test_an_exclusion_passes_when_its_rule_does_not_hold() -> None:
    protocol = _protocol({"field": "labs.neutrophils", "op": "<", "value": 1000}, kind="exclusion")
    assert evaluate_eligibility(protocol, {"labs": {"neutrophils": 1000}}).eligible
    result = evaluate_eligibility(protocol, {"labs": {"neutrophils": 999}})
    assert (
        result.failures[0].reason
        == "Exclusion C1 applies: Neutrophils 999/mm³; exclusion needs < 1,000/mm³"
    )


def test_missing_data_are_not_evaluable_and_block_enrolment() -> None:
    result = evaluate_eligibility(
        _protocol({"field": "labs.neutrophils", "op": "<", "value": 1000}, "exclusion"), {}
    )
    assert not result.eligible
    assert result.criteria[0].met is None


def test_incomparable_values_are_an_error_not_a_guess() -> None:
    with pytest.raises(
        EligibilityError, match="cannot compare `age` \\('fifty'\\) with 18 using >="
    ):
        evaluate_eligibility(_protocol({"field": "age", "op": ">=", "value": 18}), {"age": "fifty"})


def test_reasons_name_facts_in_words_with_units() -> None:
    # the wording a coordinator reads: label, value with thousands separator and unit
    protocol = _protocol({"field": "labs.lymphocytes", "op": "<", "value": 500}, kind="exclusion")
    result = evaluate_eligibility(protocol, {"labs": {"lymphocytes": 1800}})
    assert result.criteria[0].reason == (
        "Exclusion C1 does not apply: Lymphocytes 1,800/mm³; exclusion needs < 500/mm³"
    )
    missing = evaluate_eligibility(protocol, {"labs": {}})
    assert (
        missing.criteria[0].reason == "Exclusion C1 not evaluable: Lymphocytes is not recorded yet"
    )
