"""The validation gate every value passes on its way in: form, API, CLI and import alike.

One rule per kind of value, each raising :class:`~pustula.errors.DataValidationError`
that names the field:

- **dates** lie between 1 January 1900 and a year from today: a date of 0001-01-01 or
  9999-12-31 is a typing error, and it must never reach the analysis (pandas holds dates
  from 1677 to 2262 only);
- **numbers** are finite (no NaN, no infinity, no 1e400) and never booleans;
- **text** has a length limit and no control characters (NUL bytes break PostgreSQL and
  hide text from readers); only free-text notes and reasons may hold line breaks;
- **lab values** name a known test in one of its units and lie in a plausible range for
  that unit (:data:`LAB_TESTS`, the one table of lab tests and units);
- **intervals** end on or after their start; **lists** hold no duplicates.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pustula.errors import DataValidationError

__all__ = [
    "DATE_MIN",
    "FUTURE_DAYS",
    "LAB_TESTS",
    "LabTest",
    "check_date",
    "check_interval",
    "check_lab_value",
    "check_number",
    "check_text",
    "check_unique",
    "latest_date",
]

DATE_MIN = date(1900, 1, 1)
#: How far after today a date may lie (a planned end of treatment, a clock a day ahead).
FUTURE_DAYS = 366
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")


def latest_date(today: date | None = None) -> date:
    return (today or date.today()) + timedelta(days=FUTURE_DAYS)


def check_date(value: date, *, field: str, today: date | None = None) -> date:
    """A date between 1900-01-01 and a year from today.

    >>> check_date(date(1, 1, 1), field="sample_date")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pustula.errors.DataValidationError: sample_date: 0001-01-01 is not a plausible date; ...
    """
    if not DATE_MIN <= value <= latest_date(today):
        raise DataValidationError(
            f"{field}: {value.isoformat()} is not a plausible date; enter a date from "
            f"{DATE_MIN.isoformat()} to a year from today",
            field=field,
        )
    return value


def check_number(
    value: Any, *, field: str, low: float | None = None, high: float | None = None
) -> float:
    """A finite number (never a boolean), within ``[low, high]`` when given.

    >>> check_number(float("inf"), field="value")
    Traceback (most recent call last):
    ...
    pustula.errors.DataValidationError: value: must be a finite number; got inf
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataValidationError(f"{field}: must be a number; got {value!r}", field=field)
    number = float(value)
    if not math.isfinite(number):
        raise DataValidationError(f"{field}: must be a finite number; got {value!r}", field=field)
    if (low is not None and number < low) or (high is not None and number > high):
        raise DataValidationError(
            f"{field}: must be from {low:g} to {high:g}; got {value:g}", field=field
        )
    return number


def check_text(value: str, *, field: str, max_length: int, multiline: bool = False) -> str:
    """Text of at most ``max_length`` characters with no control characters.

    >>> check_text("a\\x00b", field="term", max_length=200)
    Traceback (most recent call last):
    ...
    pustula.errors.DataValidationError: term: contains a control character; remove it
    """
    if len(value) > max_length:
        raise DataValidationError(
            f"{field}: at most {max_length:,} characters; got {len(value):,}", field=field
        )
    if _CONTROL.search(value) or (not multiline and _LINE_BREAKS.search(value)):
        raise DataValidationError(f"{field}: contains a control character; remove it", field=field)
    return value


def has_visible_text(value: str | None) -> bool:
    """Whether ``value`` holds a character a reader can see: a letter, digit, punctuation
    mark or symbol. Spaces, zero-width characters (U+200B), joiners and other format
    characters do not count, so a "reason" made of them explains nothing.

    >>> has_visible_text("typo"), has_visible_text("\u200b \u2060"), has_visible_text(None)
    (True, False, False)
    """
    return value is not None and any(unicodedata.category(c)[0] in "LNPS" for c in value)


def check_interval(start: date | None, end: date | None, *, field: str = "end_date") -> None:
    """An interval ends on or after its start."""
    if start is not None and end is not None and end < start:
        raise DataValidationError(
            f"{field}: it ends ({end.isoformat()}) before it starts ({start.isoformat()})",
            field=field,
        )


def check_unique(values: Sequence[Any], *, field: str) -> None:
    """A list with no value twice."""
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise DataValidationError(f"{field}: {value} is listed twice", field=field)
        seen.add(value)


@dataclass(frozen=True)
class LabTest:
    """A lab test: its clinical name and, per unit, the range a real value can lie in.

    The ranges are plausibility limits to catch typing errors (a unit mixed up, a digit
    too many), far wider than any reference range.
    """

    label: str
    units: dict[str, tuple[float, float]]


_CELLS = {"/mm3": 100_000.0, "/uL": 100_000.0, "cells/uL": 100_000.0, "10^9/L": 100.0}
LAB_TESTS: dict[str, LabTest] = {
    "lymphocytes": LabTest("Lymphocytes", {u: (0.0, h) for u, h in _CELLS.items()}),
    "neutrophils": LabTest("Neutrophils (ANC)", {u: (0.0, h) for u, h in _CELLS.items()}),
    "leukocytes": LabTest("Leukocytes", {u: (0.0, 5 * h) for u, h in _CELLS.items()}),
    "platelets": LabTest("Platelets", {u: (0.0, 50 * h) for u, h in _CELLS.items()}),
    "haemoglobin": LabTest("Haemoglobin", {"g/dL": (0.0, 30.0), "g/L": (0.0, 300.0)}),
    "alt": LabTest("ALT", {"U/L": (0.0, 20_000.0), "ukat/L": (0.0, 350.0)}),
    "ast": LabTest("AST", {"U/L": (0.0, 20_000.0), "ukat/L": (0.0, 350.0)}),
    "ldl": LabTest("LDL cholesterol", {"mmol/L": (0.0, 30.0), "mg/dL": (0.0, 1_200.0)}),
    "creatinine": LabTest("Creatinine", {"umol/L": (0.0, 5_000.0), "mg/dL": (0.0, 60.0)}),
    "crp": LabTest("C-reactive protein", {"mg/L": (0.0, 1_000.0), "mg/dL": (0.0, 100.0)}),
}


def check_lab_value(test: str, unit: str, value: Any, *, field: str = "value") -> float:
    """A value of a known test, in one of its units, within that unit's plausible range.

    >>> check_lab_value("alt", "U/L", -1)
    Traceback (most recent call last):
    ...
    pustula.errors.DataValidationError: value: ALT in U/L must be from 0 to 20,000; got -1
    """
    known = LAB_TESTS.get(test)
    if known is None:
        names = ", ".join(sorted(LAB_TESTS))
        raise DataValidationError(f"test: {test} is not a known lab test ({names})", field="test")
    if unit not in known.units:
        units = ", ".join(known.units)
        raise DataValidationError(
            f"unit: {known.label} is recorded in {units}, not in {unit}", field="unit"
        )
    number = check_number(value, field=field)
    low, high = known.units[unit]
    if not low <= number <= high:
        raise DataValidationError(
            f"{field}: {known.label} in {unit} must be from {low:,g} to {high:,g}; got {value:g}",
            field=field,
        )
    return number
