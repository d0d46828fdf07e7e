"""The data quality rule language: what it reads, how it decides, and what it refuses.
Expected values are worked by hand next to each case."""

from __future__ import annotations

from datetime import date

import pytest

from pustula.checks.rules import parse_rule
from pustula.errors import DataValidationError

AE = {"term": "text", "start_date": "date", "end_date": "date", "grade": "number",
      "serious": "bool", "action_taken": "text", "serious_criteria": "list"}  # fmt: skip
EVENT = {"term": "Pneumonia", "start_date": date(2024, 4, 10), "end_date": date(2024, 4, 2),
         "grade": 3, "serious": False, "action_taken": "none", "serious_criteria": []}  # fmt: skip


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("end_date < start_date", True),  # 2 April is before 10 April
        ("grade >= 3 and serious == no", True),  # grade 3, not serious
        ("grade >= 3 and not serious", True),
        ("grade > 3 or serious", False),
        ("action_taken in ['interrupted', 'withdrawn']", False),
        ("action_taken not in ['interrupted', 'withdrawn']", True),
        ("days(start_date, end_date) < 0", True),  # 2 April - 10 April = -8 days
        ("days(start_date, end_date) == -8", True),
        ("end_date - start_date == -8", True),
        ("start_date > date('2024-04-01')", True),
        ("abs(grade - 5) == 2", True),  # |3 - 5| = 2
        ("grade * 2 + 1 == 7", True),  # 3 x 2 + 1
        ("grade / 2 == 1.5", True),
        ("1 < grade < 3", False),  # chained: 3 < 3 is false
        ("missing(serious_criteria)", True),  # an empty list is missing
        ("present(term) and term == 'Pneumonia'", True),
        ("-grade == -3", True),
    ],
)
def test_a_rule_decides_as_worked_by_hand(condition: str, expected: bool) -> None:
    assert parse_rule(condition, AE).holds(EVENT) is expected


def test_a_missing_value_makes_its_comparison_false_and_missing_finds_it() -> None:
    ongoing = EVENT | {"end_date": None}
    assert parse_rule("end_date < start_date", AE).holds(ongoing) is False
    assert parse_rule("end_date >= start_date", AE).holds(ongoing) is False
    assert parse_rule("missing(end_date)", AE).holds(ongoing) is True
    # within or, the missing part is false and the other part still decides
    assert parse_rule("end_date < start_date or grade == 3", AE).holds(ongoing) is True
    assert parse_rule("not (end_date < start_date)", AE).holds(ongoing) is True


def test_values_that_cannot_be_compared_are_not_a_discrepancy() -> None:
    assert parse_rule("term > 3", AE).holds(EVENT) is False
    assert parse_rule("grade / 0 > 1", AE).holds(EVENT) is False
    assert parse_rule("term * 1000000 == 'x'", AE).holds(EVENT) is False  # no text arithmetic


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ("", "is required"),
        ("grade >", "is not a condition Pustula can read"),
        ("weight > 80", "weight is not a field of this form (its fields: action_taken"),
        ("__import__('os').system('id')", "is not a function rules can use"),
        ("open('/etc/passwd')", "open is not a function rules can use"),
        ("grade.__class__", "is not part of the rule language"),
        ("(lambda: 1)()", "is not a function rules can use"),
        ("[x for x in term]", "is not part of the rule language"),
        ("grade ** 999999", "this operator is not part of the rule language"),
        ("grade if serious else 1", "is not part of the rule language"),
        ("term[0] == 'P'", "is not part of the rule language"),
        ("grade == True", "True is not a number or a text in quotes"),
        ("grade > 1e300", "at most a million million"),
        ("days(start_date)", "days() takes 2 values"),
        ("missing('term')", "missing() takes a field name"),
        ("date('2024-13-01') < start_date", "2024-13-01 is not a date as YYYY-MM-DD"),
        ("date(start_date) < end_date", "date() takes a date in quotes"),
        ("abs(x=grade) > 1", "takes its values in order"),
        ("grade==1 or " * 30 + "grade==1", "has more than 120 parts"),
        ("'" + "a" * 600 + "'", "is longer than 500 characters"),
        ("import os", "is not a condition Pustula can read"),
    ],
)
def test_anything_outside_the_language_is_refused_in_words(condition: str, words: str) -> None:
    with pytest.raises(DataValidationError) as refused:
        parse_rule(condition, AE)
    assert refused.value.field == "condition"
    assert words in refused.value.message


def test_the_rule_names_the_fields_it_reads() -> None:
    assert parse_rule("grade >= 3 and missing(end_date)", AE).fields == {"grade", "end_date"}
