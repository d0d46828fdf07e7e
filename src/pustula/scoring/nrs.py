"""Numeric rating scales for pain and itch: 0 (none) to 10 (worst imaginable), whole numbers.

The recall period is the worst in the last 24 hours. The 0-100 mm VAS is a different
instrument and is not accepted here.

Examples
--------
>>> compute_nrs(7, scale="itch").total
7.0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

import numpy as np

from pustula.scoring._columns import ColumnCheck
from pustula.scoring._values import check_keys, require_whole
from pustula.scoring.instrument import Columns, FieldSpec, Instrument
from pustula.scoring.result import ScoreResult

__all__ = ["ITCH_NRS", "PAIN_NRS", "compute_nrs"]

Scale = Literal["pain", "itch"]


def compute_nrs(value: object, *, scale: Scale) -> ScoreResult:
    """Score a pain or itch NRS answer (whole number 0–10).

    Examples
    --------
    >>> compute_nrs(7, scale="itch").total
    7.0
    """
    instrument = {"pain": PAIN_NRS, "itch": ITCH_NRS}[scale]
    field = f"{scale}_nrs"
    score = require_whole(value, what=f"{scale} NRS", field=field, low=0, high=10)
    return ScoreResult(instrument=instrument.name, version=instrument.version, total=float(score))


class _NRS(Instrument):
    title: ClassVar[str]
    version: ClassVar[str] = "1.0"
    reference: ClassVar[str] = "11-point numeric rating scale, worst in the last 24 hours"
    total_range: ClassVar[tuple[float, float]] = (0.0, 10.0)
    scale: ClassVar[Scale]

    def score(self, values: Mapping[str, object]) -> ScoreResult:
        check_keys(values, allowed={self.name}, required={self.name}, where=f"{self.title} input")
        return compute_nrs(values[self.name], scale=self.scale)

    def score_columns(self, checked: Mapping[str, ColumnCheck], n_rows: int) -> Columns:
        return {"total": checked[self.name].values.astype(np.float64)}


class _PainNRS(_NRS):
    name: ClassVar[str] = "pain_nrs"
    display_name: ClassVar[str] = "Pain NRS"
    title: ClassVar[str] = "Pain numeric rating scale (0-10)"
    scale: ClassVar[Scale] = "pain"
    fields: ClassVar[tuple[FieldSpec, ...]] = (FieldSpec("pain_nrs", 0, 10),)


class _ItchNRS(_NRS):
    name: ClassVar[str] = "itch_nrs"
    display_name: ClassVar[str] = "Itch NRS"
    title: ClassVar[str] = "Itch numeric rating scale (0-10)"
    scale: ClassVar[Scale] = "itch"
    fields: ClassVar[tuple[FieldSpec, ...]] = (FieldSpec("itch_nrs", 0, 10),)


PAIN_NRS = _PainNRS()
ITCH_NRS = _ItchNRS()
