"""The validation gate, value by value, with the message each refusal gives."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pustula.checks.values import (
    LAB_TESTS,
    check_date,
    check_interval,
    check_lab_value,
    check_number,
    check_text,
    check_unique,
)
from pustula.errors import DataValidationError


@pytest.mark.parametrize(
    ("value", "ok"),
    [(date(1, 1, 1), False), (date(1899, 12, 31), False), (date(1900, 1, 1), True),
     (date(2024, 3, 4), True), (date.today() + timedelta(days=366), True),
     (date.today() + timedelta(days=367), False), (date(9999, 12, 31), False)],
)  # fmt: skip
def test_dates_lie_between_1900_and_a_year_from_today(value: date, ok: bool) -> None:
    if ok:
        assert check_date(value, field="d") == value
    else:
        with pytest.raises(DataValidationError, match=f"d: {value.isoformat()} is not a plausible"):
            check_date(value, field="d")


@pytest.mark.parametrize(
    ("value", "message"),
    [(float("inf"), "must be a finite number"), (float("nan"), "must be a finite number"),
     (True, "must be a number"), ("3", "must be a number"), (None, "must be a number")],
)  # fmt: skip
def test_numbers_are_finite_and_never_booleans(value: object, message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        check_number(value, field="value")


@pytest.mark.parametrize(
    ("text", "multiline", "ok"),
    [("Headache", False, True), ("a\x00b", False, False), ("a\x00b", True, False),
     ("line 1\nline 2", True, True), ("line 1\nline 2", False, False), ("tab\there", False, False),
     ("\x1b[31mred", True, False), ("x" * 200, False, True), ("x" * 201, False, False)],
)  # fmt: skip
def test_text_has_a_limit_and_no_control_characters(text: str, multiline: bool, ok: bool) -> None:
    if ok:
        assert check_text(text, field="term", max_length=200, multiline=multiline) == text
    else:
        with pytest.raises(DataValidationError, match=r"^term: "):
            check_text(text, field="term", max_length=200, multiline=multiline)


@pytest.mark.parametrize(
    ("test", "unit", "value", "message"),
    [("zzz", "U/L", 1.0, "test: zzz is not a known lab test"),
     ("alt", "furlongs", 1.0, "unit: ALT is recorded in U/L, ukat/L, not in furlongs"),
     ("alt", "U/L", -1.0, "value: ALT in U/L must be from 0 to 20,000; got -1"),
     ("neutrophils", "10^9/L", 4100.0, "value: Neutrophils (ANC) in 10^9/L must be from 0 to 100"),
     ("haemoglobin", "g/dL", 138.0, "value: Haemoglobin in g/dL must be from 0 to 30; got 138")],
)  # fmt: skip
def test_lab_values_name_a_known_test_unit_and_plausible_value(
    test: str, unit: str, value: float, message: str
) -> None:
    with pytest.raises(DataValidationError) as caught:
        check_lab_value(test, unit, value)
    assert caught.value.message.startswith(message)


def test_every_lab_unit_has_an_ordered_range() -> None:
    for test in LAB_TESTS.values():
        assert test.units and all(low < high for low, high in test.units.values())


def test_intervals_end_after_they_start_and_lists_hold_no_duplicates() -> None:
    check_interval(date(2024, 1, 1), date(2024, 1, 1))
    with pytest.raises(DataValidationError, match="end_date: it ends"):
        check_interval(date(2024, 1, 2), date(2024, 1, 1))
    with pytest.raises(DataValidationError, match="death is listed twice"):
        check_unique(["death", "death"], field="serious_criteria")
