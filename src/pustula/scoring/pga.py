"""PPP Physician's Global Assessment: the direct 5-point grade and the composite grade.

The direct PPP PGA (or IGA) is a single grade: 0 clear, 1 almost clear, 2 mild,
3 moderate, 4 severe.

The composite PGA scores erythema, pustules and scaling 0–4 over all lesions and maps their
mean to a grade: 0 if all three are 0; 1 if 0 < mean < 1.5; 2 if 1.5 <= mean < 2.5;
3 if 2.5 <= mean < 3.5; 4 if mean >= 3.5. The comparisons are done on the sum of the three
(mean < 1.5 exactly when sum < 4.5), so no rounding of thirds can move a grade.

References
----------
Composite PGA: as described for the spesolimab programme in GPP and PPP (Burden AD et al.,
Br J Dermatol 2020;182:e151; Bachelez H et al., N Engl J Med 2021;385:2431-2440,
doi:10.1056/NEJMoa2111563), cut-points as given in docs/clinical/instruments.md.

Examples
--------
>>> compute_pga(1).band
'almost clear'
>>> r = compute_pga_composite(erythema=2, pustules=1, scaling=1)
>>> r.total, r.details["mean"]
(1.0, 1.3333333333333333)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from pustula.scoring._columns import ColumnCheck
from pustula.scoring._values import check_keys, require_whole
from pustula.scoring.instrument import BandColumn, Columns, FieldSpec, Instrument
from pustula.scoring.result import ScoreResult

__all__ = ["PGA", "PGA_COMPOSITE", "PGA_LABELS", "compute_pga", "compute_pga_composite"]

PGA_LABELS: tuple[str, ...] = ("clear", "almost clear", "mild", "moderate", "severe")
_COMPONENTS = ("erythema", "pustules", "scaling")
# Grade boundaries on twice the sum of three components: 2*sum < 9 <=> mean < 1.5, etc.
_TWICE_SUM_EDGES = np.array([9, 15, 21])


def compute_pga(grade: object) -> ScoreResult:
    """Score the direct PPP PGA: one whole-number grade from 0 (clear) to 4 (severe).

    Examples
    --------
    >>> result = compute_pga(1)
    >>> result.total, result.band
    (1.0, 'almost clear')
    """
    value = require_whole(grade, what="PGA grade", field="pga", low=0, high=4)
    return ScoreResult(
        instrument=PGA.name, version=PGA.version, total=float(value), band=PGA_LABELS[value]
    )


def _composite_grade(total: int) -> int:
    if total == 0:
        return 0
    return 1 + int(np.searchsorted(_TWICE_SUM_EDGES, 2 * total, side="right"))


def compute_pga_composite(*, erythema: object, pustules: object, scaling: object) -> ScoreResult:
    """Score the composite PGA from erythema, pustules and scaling (each 0–4).

    Returns the grade 0–4 as ``total`` and the component mean in ``details["mean"]``.

    Examples
    --------
    >>> result = compute_pga_composite(erythema=2, pustules=3, scaling=2)
    >>> result.total, result.band
    (2.0, 'mild')
    """
    given = {"erythema": erythema, "pustules": pustules, "scaling": scaling}
    parts = {
        k: require_whole(v, what=f"composite PGA {k}", field=f"pga_{k}", low=0, high=4)
        for k, v in given.items()
    }
    total = sum(parts.values())
    grade = _composite_grade(total)
    return ScoreResult(
        instrument=PGA_COMPOSITE.name,
        version=PGA_COMPOSITE.version,
        total=float(grade),
        subscores={k: float(v) for k, v in parts.items()},
        details={"mean": total / 3},
        band=PGA_LABELS[grade],
    )


class _PGA(Instrument):
    name: ClassVar[str] = "pga"
    display_name: ClassVar[str] = "PPP PGA"
    title: ClassVar[str] = "PPP Physician's Global Assessment (5-point)"
    version: ClassVar[str] = "1.0"
    reference: ClassVar[str] = (
        "5-point PPP PGA/IGA: 0 clear, 1 almost clear, 2 mild, 3 moderate, 4 severe"
    )
    total_range: ClassVar[tuple[float, float]] = (0.0, 4.0)
    fields: ClassVar[tuple[FieldSpec, ...]] = (FieldSpec("pga", 0, 4),)

    def score(self, values: Mapping[str, object]) -> ScoreResult:
        check_keys(values, allowed={"pga"}, required={"pga"}, where="PGA input")
        return compute_pga(values["pga"])

    def score_columns(self, checked: Mapping[str, ColumnCheck], n_rows: int) -> Columns:
        grade = checked["pga"].values.astype(np.int8)
        return {"total": grade.astype(np.float64), "band": BandColumn(grade, PGA_LABELS)}


class _PGAComposite(Instrument):
    name: ClassVar[str] = "pga_composite"
    display_name: ClassVar[str] = "PPP PGA (composite)"
    title: ClassVar[str] = "Composite PGA (mean of erythema, pustules, scaling)"
    version: ClassVar[str] = "1.0"
    reference: ClassVar[str] = (
        "Spesolimab programme composite PGA, Bachelez H et al. N Engl J Med 2021. "
        "doi:10.1056/NEJMoa2111563"
    )
    total_range: ClassVar[tuple[float, float]] = (0.0, 4.0)
    fields: ClassVar[tuple[FieldSpec, ...]] = tuple(
        FieldSpec(f"pga_{c}", 0, 4) for c in _COMPONENTS
    )

    def score(self, values: Mapping[str, object]) -> ScoreResult:
        names = {f"pga_{c}" for c in _COMPONENTS}
        check_keys(values, allowed=names, required=names, where="composite PGA input")
        return compute_pga_composite(
            erythema=values["pga_erythema"],
            pustules=values["pga_pustules"],
            scaling=values["pga_scaling"],
        )

    def score_columns(self, checked: Mapping[str, ColumnCheck], n_rows: int) -> Columns:
        total = sum(checked[f"pga_{c}"].values.astype(np.int16) for c in _COMPONENTS)
        total = np.asarray(total, dtype=np.int16)
        grade = np.where(
            total == 0, 0, 1 + np.searchsorted(_TWICE_SUM_EDGES, 2 * total, side="right")
        ).astype(np.int8)
        return {
            "total": grade.astype(np.float64),
            "band": BandColumn(grade, PGA_LABELS),
            "mean": total / 3,
        }


PGA = _PGA()
PGA_COMPOSITE = _PGAComposite()
