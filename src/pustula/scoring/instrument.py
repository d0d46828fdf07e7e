"""What every instrument provides, and the bulk pipeline they share.

An instrument declares its flat input fields (the column names of a CSV or DataFrame),
scores one assessment with :meth:`Instrument.score`, and scores validated columns with
:meth:`Instrument.score_columns`. :meth:`Instrument.score_frame` and
:meth:`Instrument.score_arrays` wrap the latter with the same validation for every
instrument, so single and bulk results cannot drift apart.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, cast

import numpy as np
import numpy.typing as npt

from pustula.errors import BulkScoringError, PustulaError, RowError, ScoringInputError
from pustula.scoring._columns import ColumnCheck, check_number_column, check_whole_column
from pustula.scoring.result import ScoreResult

__all__ = ["BandColumn", "BulkResult", "FieldSpec", "Instrument", "OnError"]

OnError = Literal["raise", "collect"]


@dataclass(frozen=True)
class FieldSpec:
    """One flat input field of an instrument.

    ``group`` names a set of alternative fields of which exactly one is given (PPPASI area
    as a percentage or as an area score). ``labels`` maps answer words to scores.

    Examples
    --------
    >>> from pustula.scoring import get_instrument
    >>> spec = get_instrument("pga").fields[0]
    >>> spec.name, spec.low, spec.high, spec.whole
    ('pga', 0, 4, True)
    """

    name: str
    low: float
    high: float
    whole: bool = True
    group: str | None = None
    labels: Mapping[str, int] | None = None
    may_be_missing: bool = False


@dataclass(frozen=True)
class BandColumn:
    """A categorical output column: ``codes`` index ``labels``; -1 means no band."""

    codes: npt.NDArray[np.int8]
    labels: tuple[str, ...]


Columns = dict[str, "npt.NDArray[Any] | BandColumn"]


@dataclass(frozen=True)
class BulkResult:
    """Scores of a batch, one entry per input row, and the rows that could not be scored.

    Invalid rows (only possible with ``errors='collect'``) are flagged in ``invalid``; they
    have a NaN total and no band, and show as nulls in the DataFrames.

    Examples
    --------
    >>> import numpy as np
    >>> from pustula.scoring import get_instrument
    >>> result = get_instrument("pga").score_arrays({"pga": np.array([0, 2, 9])}, errors="collect")
    >>> result.n_rows, [(e.row, e.column, e.reason) for e in result.errors]
    (3, [(3, 'pga', 'must be a whole number from 0 to 4; got 9')])
    """

    instrument: str
    version: str
    columns: Columns
    errors: tuple[RowError, ...]
    n_rows: int
    invalid: npt.NDArray[np.bool_] | None = None

    @property
    def total(self) -> npt.NDArray[np.float64]:
        return cast("npt.NDArray[np.float64]", self.columns["total"])

    def to_pandas(self) -> Any:
        import pandas as pd

        data: dict[str, Any] = {}
        for name, col in self.columns.items():
            if isinstance(col, BandColumn):
                data[name] = pd.Categorical.from_codes(
                    col.codes, categories=pd.Index(list(col.labels))
                )
            elif self.invalid is not None and col.dtype.kind in "iub":
                array_type = (
                    pd.arrays.BooleanArray if col.dtype.kind == "b" else pd.arrays.IntegerArray
                )
                data[name] = array_type(col, self.invalid.copy())
            else:
                data[name] = col
        return pd.DataFrame(data)

    def to_polars(self) -> Any:
        import polars as pl

        data: dict[str, Any] = {}
        for name, col in self.columns.items():
            if isinstance(col, BandColumn):
                with_none: list[str | None] = [*col.labels, None]  # code -1 -> None
                labels = np.array(with_none, dtype=object)
                data[name] = pl.Series(name, labels[col.codes], dtype=pl.Enum(list(col.labels)))
            elif col.dtype.kind == "O":
                data[name] = pl.Series(name, col.tolist(), dtype=pl.String)
            elif self.invalid is not None and col.dtype.kind in "iub":
                series = pl.Series(name, col)
                data[name] = pl.select(
                    pl.when(pl.Series(self.invalid)).then(None).otherwise(series).alias(name)
                ).to_series()
            else:
                data[name] = col
        return pl.DataFrame(data)

    def errors_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(
            [(e.row, e.column, e.value, e.reason) for e in self.errors],
            columns=["row", "column", "value", "reason"],
        )


def _is_polars(frame: object) -> bool:
    return type(frame).__module__.startswith("polars")


def frame_columns(frame: Any) -> list[str]:
    return [str(c) for c in frame.columns]


def column_array(frame: Any, name: str) -> npt.NDArray[Any]:
    """One column of a pandas or polars DataFrame as NumPy, missing values as NaN/None."""
    if _is_polars(frame):
        series = frame.get_column(name)
        if series.dtype.is_numeric() and series.null_count() > 0:
            return np.asarray(series.cast(float).to_numpy())
        return np.asarray(series.to_numpy())
    series = frame[name]
    if isinstance(series.dtype, np.dtype):
        return np.asarray(series.to_numpy())
    if series.hasnans and series.dtype.kind in "iuf":
        return np.asarray(series.to_numpy(dtype="float64", na_value=np.nan))
    return np.asarray(series.to_numpy(dtype=object, na_value=None))


class Instrument(ABC):
    """A registered scoring instrument.

    Examples
    --------
    >>> from pustula.scoring import get_instrument
    >>> pga = get_instrument("pga")
    >>> pga.score({"pga": 1}).band
    'almost clear'
    """

    name: ClassVar[str]
    #: The name as published and shown to people ("PPP PGA", "Pain NRS").
    display_name: ClassVar[str] = ""
    title: ClassVar[str]
    version: ClassVar[str]
    reference: ClassVar[str]
    fields: ClassVar[tuple[FieldSpec, ...]]
    total_range: ClassVar[tuple[float, float]]
    decimals: ClassVar[int] = 0
    #: How many items may be missing before the instrument gives no total; 0 means a
    #: missing item is an input error.
    missing_items_allowed: ClassVar[int] = 0

    @abstractmethod
    def score(self, values: Mapping[str, object]) -> ScoreResult:
        """Score one assessment given its flat fields (column names as keys)."""

    def metadata(self) -> dict[str, Any]:
        """What forms and other programs need to know of the instrument, as JSON-ready data:
        its names, version, reference, total range and every field with its allowed range
        and answer words. Instruments add their structure (PPPASI: regions and weights)."""
        return {
            "name": self.name,
            "display_name": self.display_name or self.name,
            "title": self.title,
            "version": self.version,
            "reference": self.reference,
            "total_range": list(self.total_range),
            "decimals": self.decimals,
            "fields": [
                {"name": f.name, "low": f.low, "high": f.high, "whole": f.whole,
                 "group": f.group, "labels": dict(f.labels) if f.labels else None,
                 "may_be_missing": f.may_be_missing}
                for f in self.fields
            ],
        }  # fmt: skip

    def score_many(self, rows: Sequence[Mapping[str, object]]) -> list[ScoreResult | PustulaError]:
        """Each row's :meth:`score`, or the error that row raises, in order.

        Equal to scoring the rows one by one; rows with the same values (and types) are
        scored once. Instruments may compute whole columns instead (PPPASI does).
        """
        done: dict[Any, ScoreResult | PustulaError] = {}
        out: list[ScoreResult | PustulaError] = []
        for values in rows:
            key = _key(values)
            found = done.get(key) if key is not None else None
            if found is None:
                found = self._score_or_error(values)
                if key is not None:
                    done[key] = found
            out.append(found)
        return out

    def _score_or_error(self, values: Mapping[str, object]) -> ScoreResult | PustulaError:
        try:
            return self.score(values)
        except PustulaError as exc:
            return exc

    @abstractmethod
    def score_columns(self, checked: Mapping[str, ColumnCheck], n_rows: int) -> Columns:
        """Score validated columns; must equal :meth:`score` row by row."""

    # --- the shared bulk pipeline -------------------------------------------------------

    def required_columns(self, available: Sequence[str]) -> list[str]:
        """The columns to read: each plain field, and one field of each group."""
        chosen: list[str] = []
        groups: dict[str, list[str]] = {}
        for spec in self.fields:
            if spec.group is None:
                chosen.append(spec.name)
            else:
                groups.setdefault(spec.group, []).append(spec.name)
        problems: list[str] = []
        missing = [c for c in chosen if c not in available]
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        for group, names in groups.items():
            present = [n for n in names if n in available]
            if len(present) != 1:
                problems.append(f"{group} needs exactly one of {' or '.join(names)}")
            else:
                chosen.append(present[0])
        if problems:
            raise ScoringInputError(
                f"{self.name} input cannot be scored: {'; '.join(problems)}",
                field=missing[0] if missing else None,
            )
        return chosen

    def check_column(self, spec: FieldSpec, raw: npt.NDArray[Any]) -> ColumnCheck:
        if spec.whole:
            return check_whole_column(
                raw,
                column=spec.name,
                low=int(spec.low),
                high=int(spec.high),
                labels=spec.labels,
                allow_missing=spec.may_be_missing,
            )
        return check_number_column(raw, column=spec.name, low=spec.low, high=spec.high)

    def score_arrays(
        self, arrays: Mapping[str, npt.NDArray[Any]], *, errors: OnError = "raise"
    ) -> BulkResult:
        """Score a batch given as NumPy arrays keyed by column name."""
        if errors not in ("raise", "collect"):
            raise ScoringInputError(
                f"errors must be 'raise' or 'collect'; got {errors!r}", field="errors"
            )
        names = self.required_columns(list(arrays))
        lengths = {len(arrays[n]) for n in names}
        if len(lengths) > 1:
            raise ScoringInputError(f"{self.name} columns have different lengths: {lengths}")
        n_rows = lengths.pop() if lengths else 0
        specs = {s.name: s for s in self.fields}
        checked = {n: self.check_column(specs[n], np.asarray(arrays[n])) for n in names}
        row_errors = sorted(
            (e for c in checked.values() for e in c.errors), key=lambda e: (e.row, e.column)
        )
        if row_errors and errors == "raise":
            raise BulkScoringError(row_errors, n_rows=n_rows)
        columns = self.score_columns(checked, n_rows)
        if not row_errors:
            return BulkResult(self.name, self.version, columns, (), n_rows)
        invalid = np.zeros(n_rows, dtype=bool)
        for c in checked.values():
            invalid |= c.invalid
        return BulkResult(
            self.name,
            self.version,
            _blank_rows(columns, invalid),
            tuple(row_errors),
            n_rows,
            invalid,
        )

    def score_frame(self, frame: Any, *, errors: OnError = "raise") -> Any:
        """Score every row of a pandas or polars DataFrame.

        Returns a DataFrame of the same library with one output row per input row. With
        ``errors='raise'`` (the default) one invalid row fails the whole batch with a
        :class:`~pustula.errors.BulkScoringError` naming row, column and reason. With
        ``errors='collect'`` invalid rows get a NaN total and an ``error`` column holding
        their reasons, and valid rows are scored.
        """
        names = self.required_columns(frame_columns(frame))
        result = self.score_arrays({n: column_array(frame, n) for n in names}, errors=errors)
        if errors == "collect":
            reasons: dict[int, list[str]] = {}
            for e in result.errors:
                reasons.setdefault(e.row - 1, []).append(f"{e.column}: {e.reason}")
            per_row = np.full(result.n_rows, None, dtype=object)
            for i, texts in reasons.items():
                per_row[i] = "; ".join(texts)
            result.columns["error"] = per_row
        return result.to_polars() if _is_polars(frame) else result.to_pandas()


def _key(values: Mapping[str, object]) -> Any:
    """A hashable key of the values with their types (1, 1.0 and True score differently),
    or None when a value cannot be hashed."""
    key = tuple((k, type(v), v) for k, v in values.items())
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _blank_rows(columns: Columns, invalid: npt.NDArray[np.bool_]) -> Columns:
    """NaN totals and no band on invalid rows; integer columns are masked on output."""
    out: Columns = {}
    for name, col in columns.items():
        if isinstance(col, BandColumn):
            out[name] = BandColumn(np.where(invalid, -1, col.codes).astype(np.int8), col.labels)
        elif col.dtype.kind == "f":
            out[name] = np.where(invalid, np.nan, col)
        else:
            out[name] = col
    return out
