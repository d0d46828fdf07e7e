"""PPPASI: Palmoplantar Pustulosis Area and Severity Index.

PPPASI = Σ over the four regions of weight × (erythema + pustules + desquamation) × area
score, with weights 0.2 for each palm and 0.3 for each sole, signs 0–4 and area score 0–6,
so the total runs from 0 to 72.

Totals are computed in integer tenths (weights 2 and 3) and divided by ten once, so a
total is the float nearest its exact decimal value (13.8, never 13.800000000000002) and
bulk scoring gives the same bits as single scoring.

References
----------
Bhushan M, Burden AD, McElhone K, James R, Vanhoutte FP, Griffiths CEM. Oral liarozole in
the treatment of palmoplantar pustular psoriasis: a randomized, double-blind,
placebo-controlled study. Br J Dermatol 2001;145:546-553. doi:10.1046/j.1365-2133.2001.04411.x

Examples
--------
The worked example of docs/clinical/instruments.md:

>>> result = compute_pppasi({
...     "right_palm": {"erythema": 2, "pustules": 3, "desquamation": 1, "area_pct": 25},
...     "left_palm": {"erythema": 1, "pustules": 1, "desquamation": 1, "area_pct": 5},
...     "right_sole": {"erythema": 3, "pustules": 4, "desquamation": 2, "area_pct": 60},
...     "left_sole": {"erythema": 0, "pustules": 0, "desquamation": 0, "area_pct": 0},
... })
>>> result.total, result.display_total, result.band
(13.8, '13.8', 'severe')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numpy as np
import numpy.typing as npt

from pustula.errors import PustulaError, ScoringInputError
from pustula.scoring._columns import ColumnCheck
from pustula.scoring._values import check_keys, require_number, require_whole
from pustula.scoring.instrument import BandColumn, Columns, FieldSpec, Instrument
from pustula.scoring.result import ScoreResult

__all__ = [
    "AREA_BANDS_PERCENT",
    "INDIAN_MPPPASI_BANDS",
    "PPPASI",
    "REGIONS",
    "REGION_LABELS",
    "REGION_WEIGHTS",
    "SEVERITY_DESCRIPTORS",
    "SIGNS",
    "SIGN_LABELS",
    "SeverityBands",
    "area_score_from_percent",
    "compute_pppasi",
]

REGIONS: tuple[str, ...] = ("right_palm", "left_palm", "right_sole", "left_sole")
SIGNS: tuple[str, ...] = ("erythema", "pustules", "desquamation")
#: The published region weights in tenths (palms 0.2, soles 0.3): the one home of the
#: weights. Scores are computed in whole tenths, so a total is exact (0.2 × 12 in floats
#: is 2.4000000000000004); ``REGION_WEIGHTS`` is derived from these, never typed twice.
_WEIGHT_TENTHS: Mapping[str, int] = {
    "right_palm": 2,
    "left_palm": 2,
    "right_sole": 3,
    "left_sole": 3,
}
REGION_WEIGHTS: Mapping[str, float] = {r: t / 10 for r, t in _WEIGHT_TENTHS.items()}

#: How regions and signs are named on forms and in reports.
REGION_LABELS: Mapping[str, str] = {
    "right_palm": "Right palm",
    "left_palm": "Left palm",
    "right_sole": "Right sole",
    "left_sole": "Left sole",
}
SIGN_LABELS: Mapping[str, str] = {
    "erythema": "Erythema",
    "pustules": "Pustules",
    "desquamation": "Desquamation",
}
#: The severity scale of every sign, as published: 0 none to 4 very severe.
SEVERITY_DESCRIPTORS: tuple[str, ...] = ("none", "slight", "moderate", "severe", "very severe")

#: Lower edges (percent) of area scores 2 to 6; area score 1 is ">0 to <10%", 0 is 0%.
AREA_BANDS_PERCENT: tuple[float, ...] = (10.0, 30.0, 50.0, 70.0, 90.0)
_AREA_EDGES = np.asarray(AREA_BANDS_PERCENT)
_AREA_KEYS = ("area_pct", "area_score")


@dataclass(frozen=True)
class SeverityBands:
    """Severity bands over a total: band ``i`` holds totals from ``lower[i]`` upward.

    Published bands are given on whole numbers (0–5, 6–9, ...). A fractional total between
    two of them (5.4) belongs to the lower band: each band runs up to, not including, the
    next band's lower bound.
    """

    name: str
    labels: tuple[str, ...]
    lower: tuple[float, ...]
    source: str

    def band_of(self, total: float) -> str:
        index = int(np.searchsorted(self.lower, total, side="right")) - 1
        return self.labels[max(index, 0)]

    def codes_of(self, totals: npt.NDArray[Any], *, scale: int = 1) -> npt.NDArray[np.int8]:
        """Band index of each total; ``scale=10`` takes totals in integer tenths.

        One comparison per band edge is several times faster than a search over floats.
        """
        codes = np.zeros(totals.shape[0], dtype=np.int8)
        for edge in self.lower[1:]:
            codes += totals >= edge * scale
        return codes


INDIAN_MPPPASI_BANDS = SeverityBands(
    name="Indian m-PPPASI",
    labels=("mild", "moderate", "severe", "very severe"),
    lower=(0.0, 6.0, 10.0, 20.0),
    source="Indian m-PPPASI severity bands: 0-5 mild, 6-9 moderate, 10-19 severe, "
    "20-72 very severe (docs/clinical/instruments.md)",
)


def area_score_from_percent(percent: float) -> int:
    """Map the percentage of a region involved (0–100) to the PPPASI area score 0–6.

    Examples
    --------
    >>> [area_score_from_percent(p) for p in (0, 0.1, 9.9, 10, 29.9, 30, 90, 100)]
    [0, 1, 1, 2, 2, 3, 6, 6]
    """
    pct = require_number(percent, what="area percentage", field="area_pct", low=0, high=100)
    if pct == 0:
        return 0
    return 1 + int(np.searchsorted(_AREA_EDGES, pct, side="right"))


def _region_values(region: str, values: object) -> tuple[tuple[int, ...], int]:
    if not isinstance(values, Mapping):
        raise ScoringInputError(
            f"{region} must be a mapping of erythema, pustules, desquamation and area_pct "
            f"or area_score; got {type(values).__name__}",
            field=region,
            value=values,
        )
    check_keys(values, allowed={*SIGNS, *_AREA_KEYS}, required=set(SIGNS), where=region)
    given = [k for k in _AREA_KEYS if k in values]
    if len(given) != 1:
        raise ScoringInputError(
            f"{region} needs exactly one of area_pct (0-100) or area_score (0-6); "
            f"got {' and '.join(given) or 'neither'}",
            field=f"{region}.area_pct",
        )
    signs = tuple(
        require_whole(values[s], what=f"{s} for {region}", field=f"{region}.{s}", low=0, high=4)
        for s in SIGNS
    )
    if given[0] == "area_pct":
        pct = require_number(
            values["area_pct"],
            what=f"area_pct for {region}",
            field=f"{region}.area_pct",
            low=0,
            high=100,
        )
        area = area_score_from_percent(pct)
    else:
        area = require_whole(
            values["area_score"],
            what=f"area_score for {region}",
            field=f"{region}.area_score",
            low=0,
            high=6,
        )
    return signs, area


def _consistency_warning(region: str, signs: tuple[int, ...], area: int) -> str | None:
    if area == 0 and any(signs):
        return f"{region}: signs are scored but the area score is 0, so the region adds 0"
    if area > 0 and not any(signs):
        return f"{region}: area is involved but erythema, pustules and desquamation are all 0"
    return None


def compute_pppasi(
    regions: Mapping[str, Mapping[str, object]],
    *,
    bands: SeverityBands = INDIAN_MPPPASI_BANDS,
) -> ScoreResult:
    """Score one PPPASI assessment.

    Parameters
    ----------
    regions
        For each of ``right_palm``, ``left_palm``, ``right_sole``, ``left_sole``: a mapping
        with ``erythema``, ``pustules`` and ``desquamation`` (whole numbers 0–4) and either
        ``area_pct`` (0–100, mapped to the area score) or ``area_score`` (0–6).
    bands
        Severity bands for the total (default: the Indian m-PPPASI bands).

    Returns
    -------
    ScoreResult
        ``total`` 0–72, ``subscores`` per region, ``details`` with each region's area score,
        the severity ``band``, and a warning per inconsistent region (signs without area, or
        area without signs), which is reported, never corrected.

    Raises
    ------
    ScoringInputError
        A region or field is missing or unknown, or a value is out of range or not a
        whole number where one is required.

    Examples
    --------
    >>> result = compute_pppasi({
    ...     "right_palm": {"erythema": 2, "pustules": 3, "desquamation": 1, "area_pct": 25},
    ...     "left_palm": {"erythema": 1, "pustules": 1, "desquamation": 1, "area_pct": 5},
    ...     "right_sole": {"erythema": 3, "pustules": 4, "desquamation": 2, "area_pct": 60},
    ...     "left_sole": {"erythema": 0, "pustules": 0, "desquamation": 0, "area_pct": 0},
    ... })
    >>> result.total, result.band, result.subscores["right_palm"]
    (13.8, 'severe', 2.4)
    """
    check_keys(regions, allowed=set(REGIONS), required=set(REGIONS), where="PPPASI input")
    tenths: dict[str, int] = {}
    areas: dict[str, int] = {}
    warnings: list[str] = []
    for region in REGIONS:
        signs, area = _region_values(region, regions[region])
        tenths[region] = _WEIGHT_TENTHS[region] * sum(signs) * area
        areas[f"{region}_area_score"] = area
        warning = _consistency_warning(region, signs, area)
        if warning:
            warnings.append(warning)
    total = sum(tenths.values()) / 10
    return ScoreResult(
        instrument=PPPASI.name,
        version=PPPASI.version,
        total=total,
        decimals=PPPASI.decimals,
        subscores={r: t / 10 for r, t in tenths.items()},
        details=areas,
        band=bands.band_of(total),
        warnings=tuple(warnings),
    )


def _nest(values: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """Flat ``{region}_{field}`` keys to the nested form; unknown keys are refused."""
    nested: dict[str, dict[str, object]] = {r: {} for r in REGIONS}
    for key, value in values.items():
        region = next((r for r in REGIONS if key.startswith(f"{r}_")), None)
        if region is None:
            raise ScoringInputError(
                f"PPPASI input has unknown field {key}; fields are named "
                "{region}_{erythema|pustules|desquamation|area_pct|area_score}",
                field=key,
                value=value,
            )
        nested[region][key[len(region) + 1 :]] = value
    return nested


def _area_scores_into(
    check: ColumnCheck,
    out: npt.NDArray[np.int8],
    sl: slice,
    scratch: tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]],
) -> None:
    """Write the area scores of rows ``sl`` into ``out``, without temporaries.

    Whole percentages p use the closed form (p > 0) + (p + 10) // 20, which equals the band
    table at every p in 0..100 (the edges 10, 30, 50, 70, 90 are 20 apart after the first).
    Fractional percentages are compared with each edge instead: in floats, p + 10 can round
    up across an edge, and an area score must never move on a rounding.
    """
    values = check.values[sl]
    if check.column.endswith("area_score"):
        out[...] = values
        return
    buffer, flags = scratch[0][: values.shape[0]], scratch[1][: values.shape[0]]
    if values.dtype.kind in "iu":
        np.add(values, 10, out=buffer, casting="unsafe")
        np.floor_divide(buffer, 20, out=buffer)
        np.greater(values, 0, out=flags)
        np.add(buffer, flags, out=out, casting="unsafe")
        return
    np.greater(values, 0, out=out.view(np.bool_))
    for edge in AREA_BANDS_PERCENT:
        np.greater_equal(values, edge, out=flags)
        np.add(out, flags, out=out, casting="unsafe")


#: Rows per block in bulk scoring: small enough that a block's arrays stay in CPU cache.
_BLOCK = 1 << 15


class _PPPASI(Instrument):
    name: ClassVar[str] = "pppasi"
    display_name: ClassVar[str] = "PPPASI"
    title: ClassVar[str] = "Palmoplantar Pustulosis Area and Severity Index"
    version: ClassVar[str] = "1.0"
    reference: ClassVar[str] = (
        "Bhushan M et al. Br J Dermatol 2001;145:546-553. doi:10.1046/j.1365-2133.2001.04411.x"
    )
    total_range: ClassVar[tuple[float, float]] = (0.0, 72.0)
    decimals: ClassVar[int] = 1
    fields: ClassVar[tuple[FieldSpec, ...]] = tuple(
        spec
        for region in REGIONS
        for spec in (
            *(FieldSpec(f"{region}_{s}", 0, 4) for s in SIGNS),
            FieldSpec(f"{region}_area_pct", 0, 100, whole=False, group=f"{region} area"),
            FieldSpec(f"{region}_area_score", 0, 6, group=f"{region} area"),
        )
    )
    bands: ClassVar[SeverityBands] = INDIAN_MPPPASI_BANDS

    def score(self, values: Mapping[str, object]) -> ScoreResult:
        """Score nested input (region → fields) or flat ``{region}_{field}`` input."""
        if any(k in REGIONS for k in values):
            return compute_pppasi(values)  # type: ignore[arg-type]
        return compute_pppasi(_nest(values))

    def metadata(self) -> dict[str, Any]:
        """The fields, plus the structure a live scorer needs: regions with their weights
        (also in integer tenths, as the exact arithmetic uses them), signs with the
        severity scale, and the area bands' lower edges."""
        return super().metadata() | {
            "regions": [
                {"code": r, "label": REGION_LABELS[r], "weight": REGION_WEIGHTS[r],
                 "weight_tenths": _WEIGHT_TENTHS[r]}
                for r in REGIONS
            ],
            "signs": [{"code": s, "label": SIGN_LABELS[s]} for s in SIGNS],
            "severity": list(SEVERITY_DESCRIPTORS),
            "area_band_edges": list(AREA_BANDS_PERCENT),
        }  # fmt: skip

    def score_many(self, rows: Sequence[Mapping[str, object]]) -> list[ScoreResult | PustulaError]:
        """Each row's score or error, as :meth:`score` gives it.

        Rows of flat items with area percentages are checked and scored as columns, with
        the region warnings :meth:`score` gives; a row the columns find invalid, or of
        another form, is scored on its own, for its exact message.
        """
        # the column checks read text digits as CSV readers do; one assessment's may not
        simple = [
            i for i, r in enumerate(rows)
            if r.keys() == _FLAT_KEYS and all(type(v) in _NUMBERS for v in r.values())
        ]  # fmt: skip
        out: list[ScoreResult | PustulaError | None] = [None] * len(rows)
        if simple:
            specs = {f.name: f for f in self.fields}
            # only ints and floats are left: NumPy gives int64, or float64 where any is one
            checked = {
                name: self.check_column(specs[name], np.asarray([rows[i][name] for i in simple]))
                for name in _FLAT_PCT
            }
            invalid = np.zeros(len(simple), dtype=bool)
            for check in checked.values():
                invalid |= check.invalid
            columns = self.score_columns(checked, len(simple))
            values = {k: cast(npt.NDArray[Any], v).tolist() for k, v in columns.items()
                      if k in ("total", "inconsistent") or k.endswith(("_subscore", "_area_score"))
                      }  # fmt: skip
            bands = cast(BandColumn, columns["band"])
            values["band"] = [bands.labels[code] for code in bands.codes.tolist()]
            for j, (i, bad) in enumerate(zip(simple, invalid.tolist(), strict=True)):
                if not bad:
                    out[i] = self._result_of(values, j, rows[i])
        return [
            result if result is not None else self._score_or_error(rows[i])
            for i, result in enumerate(out)
        ]

    def _result_of(
        self, values: Mapping[str, list[Any]], j: int, row: Mapping[str, object]
    ) -> ScoreResult:
        total = values["total"][j]
        warnings: tuple[str, ...] = ()
        if values["inconsistent"][j]:
            signs = {r: cast(tuple[int, ...], tuple(row[f"{r}_{s}"] for s in SIGNS))
                     for r in REGIONS}  # fmt: skip
            found = (_consistency_warning(r, signs[r], values[f"{r}_area_score"][j])
                     for r in REGIONS)  # fmt: skip
            warnings = tuple(w for w in found if w)
        return ScoreResult(
            instrument=self.name, version=self.version, total=total, decimals=self.decimals,
            subscores={r: values[f"{r}_subscore"][j] for r in REGIONS},
            details={f"{r}_area_score": values[f"{r}_area_score"][j] for r in REGIONS},
            band=values["band"][j], warnings=warnings,
        )  # fmt: skip

    def score_columns(self, checked: Mapping[str, ColumnCheck], n_rows: int) -> Columns:
        tenths = np.zeros(n_rows, dtype=np.uint16)
        region_tenths = {r: np.empty(n_rows, dtype=np.uint8) for r in REGIONS}
        areas = {r: np.empty(n_rows, dtype=np.int8) for r in REGIONS}
        inconsistent = np.zeros(n_rows, dtype=bool)
        scratch = (np.empty(_BLOCK, dtype=np.uint8), np.empty(_BLOCK, dtype=np.bool_))
        for start in range(0, n_rows, _BLOCK):
            sl = slice(start, start + _BLOCK)
            for region in REGIONS:
                self._score_region_block(
                    checked, region, sl, region_tenths, areas, inconsistent, scratch
                )
                np.add(tenths[sl], region_tenths[region][sl], out=tenths[sl])
        out: Columns = {
            "total": tenths / 10,
            "band": BandColumn(self.bands.codes_of(tenths, scale=10), self.bands.labels),
        }
        for region in REGIONS:
            out[f"{region}_subscore"] = region_tenths[region] / 10
            out[f"{region}_area_score"] = areas[region]
        out["inconsistent"] = inconsistent
        return out

    @staticmethod
    def _score_region_block(
        checked: Mapping[str, ColumnCheck],
        region: str,
        sl: slice,
        region_tenths: Mapping[str, npt.NDArray[np.uint8]],
        areas: Mapping[str, npt.NDArray[np.int8]],
        inconsistent: npt.NDArray[np.bool_],
        scratch: tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]],
    ) -> None:
        # Weight (tenths) x sign sum x area is at most 3 x 12 x 6 = 216: uint8 suffices.
        area_check = checked.get(f"{region}_area_pct") or checked[f"{region}_area_score"]
        area = areas[region][sl]
        _area_scores_into(area_check, area, sl, scratch)
        part = region_tenths[region][sl]
        erythema, pustules, desquamation = (checked[f"{region}_{s}"].values[sl] for s in SIGNS)
        np.add(erythema, pustules, out=part, casting="unsafe")
        np.add(part, desquamation, out=part, casting="unsafe")
        inconsistent[sl] |= (part == 0) != (area == 0)
        np.multiply(part, area, out=part, casting="unsafe")
        np.multiply(part, _WEIGHT_TENTHS[region], out=part, casting="unsafe")


PPPASI = _PPPASI()
_FLAT_PCT = tuple(f.name for f in PPPASI.fields if not f.name.endswith("_area_score"))
_FLAT_KEYS = frozenset(_FLAT_PCT)
_NUMBERS = (int, float)
