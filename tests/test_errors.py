"""The exception tree: one root, stable codes, built-in bases for generic callers."""

from __future__ import annotations

import inspect

import pustula.errors as errors_module
from pustula.errors import BulkScoringError, PustulaError, RowError, ScoringInputError


def all_error_classes() -> list[type[PustulaError]]:
    return [
        obj
        for _, obj in inspect.getmembers(errors_module, inspect.isclass)
        if issubclass(obj, PustulaError)
    ]


def test_every_error_derives_from_the_root_and_has_a_unique_code() -> None:
    classes = all_error_classes()
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes)), codes
    assert all(code.replace("_", "").isalpha() and code.islower() for code in codes)


def test_the_tree_is_documented_at_the_top_of_the_module() -> None:
    doc = errors_module.__doc__ or ""
    for cls in all_error_classes():
        assert cls.__name__ in doc
        assert cls.code in doc


def test_scoring_errors_are_value_errors_carrying_field_and_value() -> None:
    error = ScoringInputError("x must be 1; got 2", field="x", value=2)
    assert isinstance(error, ValueError)
    assert (error.field, error.value, str(error)) == ("x", 2, "x must be 1; got 2")


def test_bulk_error_counts_bad_rows_and_shows_the_first_five() -> None:
    errs = [RowError(row=i, column="pga", value=9, reason="bad") for i in range(1, 8)]
    error = BulkScoringError(errs, n_rows=100)
    assert str(error).startswith(
        "7 of 100 rows are invalid, so none was scored: row 1, column 'pga': bad;"
    )
    assert "row 6" not in str(error)
    assert "and 2 more" in str(error)
