"""Vectorised validation of one input column for bulk scoring.

Each check returns the values ready for arithmetic plus a mask of invalid rows and the
per-row reasons, worded like single scoring's messages. Valid integer columns take a
fast path (one min/max pass, no copy), which is what keeps bulk scoring fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from pustula.errors import RowError
from pustula.scoring._values import is_missing

__all__ = ["ColumnCheck", "check_number_column", "check_whole_column"]

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ColumnCheck:
    """A validated column: ``values`` is safe to compute with where ``invalid`` is False."""

    column: str
    values: npt.NDArray[np.generic]
    invalid: BoolArray
    missing: BoolArray
    errors: list[RowError] = field(default_factory=list)


def _reason_range(low: float, high: float, whole: bool) -> str:
    kind = "a whole number" if whole else "a number"
    return f"must be {kind} from {low:g} to {high:g}"


def _errors_at(
    raw: npt.NDArray[np.generic], mask: BoolArray, column: str, reason: str, *, got: bool = True
) -> list[RowError]:
    errors = []
    for i in np.flatnonzero(mask):
        value = _plain(raw[i])
        text = f"{reason}; got {value!r}" if got else reason
        errors.append(RowError(row=int(i) + 1, column=column, value=value, reason=text))
    return errors


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _parse_text(
    raw: npt.NDArray[np.generic], labels: Mapping[str, int] | None
) -> tuple[npt.NDArray[np.float64], BoolArray]:
    """Turn an object/text column into floats; NaN where missing, plus an 'unreadable' mask."""
    out = np.full(raw.shape[0], np.nan)
    unreadable = np.zeros(raw.shape[0], dtype=bool)
    for i, item in enumerate(raw):
        if is_missing(item):
            continue
        if isinstance(item, bool | np.bool_):
            unreadable[i] = True
        elif isinstance(item, int | float | np.integer | np.floating):
            out[i] = float(item)
        else:
            text = str(item).strip()
            if labels is not None and text.lower() in labels:
                out[i] = labels[text.lower()]
            elif text:
                try:
                    out[i] = float(text)
                except ValueError:
                    unreadable[i] = True
    return out, unreadable


def check_whole_column(
    raw: npt.NDArray[np.generic],
    *,
    column: str,
    low: int,
    high: int,
    labels: Mapping[str, int] | None = None,
    allow_missing: bool = False,
) -> ColumnCheck:
    """Validate a column of whole-number scores in ``[low, high]``.

    ``labels`` maps answer texts (lower case) to scores, for instruments whose answers are
    words. Missing cells are an error unless ``allow_missing``; then they are reported in
    ``missing`` and the instrument's missing-item rule decides.
    """
    n = raw.shape[0]
    reason = _reason_range(low, high, whole=True)
    nothing = np.zeros(n, dtype=bool)
    if raw.dtype.kind in "iu":
        if n == 0 or (int(raw.min()) >= low and int(raw.max()) <= high):
            return ColumnCheck(column, raw, nothing, nothing)
        bad = np.less(raw, low) | np.greater(raw, high)
        return ColumnCheck(
            column, np.where(bad, 0, raw), bad, nothing, _errors_at(raw, bad, column, reason)
        )
    if raw.dtype.kind == "b":
        every = np.ones(n, dtype=bool)
        return ColumnCheck(
            column, np.zeros(n, np.int16), every, nothing, _errors_at(raw, every, column, reason)
        )
    unreadable = np.zeros(n, dtype=bool)
    if raw.dtype.kind == "f":
        numbers = raw.astype(np.float64, copy=False)
    else:
        numbers, unreadable = _parse_text(raw, labels)
    missing = np.isnan(numbers) & ~unreadable
    with np.errstate(invalid="ignore"):
        out_of_range = (
            ~missing
            & ~unreadable
            & ((numbers != np.floor(numbers)) | (numbers < low) | (numbers > high))
        )
    errors: list[RowError] = []
    if labels:
        accepted = ", ".join(f"'{k}'" for k in labels)
        errors += _errors_at(raw, unreadable, column, f"{reason} or one of {accepted}")
    else:
        errors += _errors_at(raw, unreadable, column, reason)
    errors += _errors_at(raw, out_of_range, column, reason)
    invalid = unreadable | out_of_range
    if not allow_missing:
        errors += _errors_at(raw, missing, column, f"is missing; it {reason}", got=False)
        invalid = invalid | missing
    errors.sort(key=lambda e: e.row)
    values = np.where(invalid | missing, 0, numbers).astype(np.int16)
    return ColumnCheck(column, values, invalid, missing if allow_missing else nothing, errors)


def check_number_column(
    raw: npt.NDArray[np.generic], *, column: str, low: float, high: float
) -> ColumnCheck:
    """Validate a column of real numbers (for example an area percentage) in ``[low, high]``."""
    n = raw.shape[0]
    reason = _reason_range(low, high, whole=False)
    nothing = np.zeros(n, dtype=bool)
    if raw.dtype.kind in "iu":
        if n == 0 or (float(raw.min()) >= low and float(raw.max()) <= high):
            return ColumnCheck(column, raw, nothing, nothing)
        bad = np.less(raw, low) | np.greater(raw, high)
        return ColumnCheck(
            column, np.where(bad, 0, raw), bad, nothing, _errors_at(raw, bad, column, reason)
        )
    unreadable = np.zeros(n, dtype=bool)
    if raw.dtype.kind == "f":
        numbers = raw.astype(np.float64, copy=False)
    elif raw.dtype.kind == "b":
        numbers, unreadable = np.zeros(n), np.ones(n, dtype=bool)
    else:
        numbers, unreadable = _parse_text(raw, None)
    missing = np.isnan(numbers) & ~unreadable
    with np.errstate(invalid="ignore"):
        out_of_range = ~missing & ~unreadable & ((numbers < low) | (numbers > high))
    errors = (
        _errors_at(raw, unreadable, column, reason)
        + _errors_at(raw, out_of_range, column, reason)
        + _errors_at(raw, missing, column, f"is missing; it {reason}", got=False)
    )
    errors.sort(key=lambda e: e.row)
    invalid = unreadable | out_of_range | missing
    return ColumnCheck(column, np.where(invalid, 0.0, numbers), invalid, nothing, errors)
