"""The typed, frozen result every instrument returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["ScoreResult"]


@dataclass(frozen=True)
class ScoreResult:
    """The score of one assessment, with what is needed to trace it.

    Attributes
    ----------
    instrument, version
        Registry name and version of the instrument that produced the score. Saved
        assessments store both, so a later change of definition never rewrites history.
    total
        Full-precision total, or ``None`` where the instrument's missing-item rule gives
        no total (for example a DLQI with two or more missing items).
    decimals
        How many decimals the instrument's definition reports (PPPASI: 1).
    subscores
        Named parts of the total (PPPASI: one per region; DLQI: one per domain).
    details
        Other derived values (PPPASI area scores, the composite PGA mean, ...).
    band
        Severity or impact band of the total, where the instrument defines one.
    warnings
        Edit-check warnings that do not stop scoring (inconsistent region, missing item).

    Examples
    --------
    >>> from pustula.scoring import compute_pppasi
    >>> clear = {"erythema": 0, "pustules": 0, "desquamation": 0, "area_pct": 0}
    >>> result = compute_pppasi({"right_palm": {"erythema": 2, "pustules": 2, "desquamation": 1,
    ...                                         "area_pct": 15},
    ...                          "left_palm": clear, "right_sole": clear, "left_sole": clear})
    >>> result.total, result.band, result.details["right_palm_area_score"]
    (2.0, 'mild', 2)
    >>> result.display_total, result.to_dict()["subscores"]["right_palm"]
    ('2.0', 2.0)
    """

    instrument: str
    version: str
    total: float | None
    decimals: int = 0
    subscores: Mapping[str, float] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    band: str | None = None
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Freeze the mappings too: a frozen dataclass alone would let callers mutate them.
        object.__setattr__(self, "subscores", MappingProxyType(dict(self.subscores)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    @property
    def display_total(self) -> str:
        """The total rounded as the instrument reports it, or an empty string."""
        if self.total is None:
            return ""
        return f"{self.total:.{self.decimals}f}"

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready dictionary of the result."""
        return {
            "instrument": self.instrument,
            "version": self.version,
            "total": self.total,
            "display_total": self.display_total,
            "band": self.band,
            "subscores": dict(self.subscores),
            "details": dict(self.details),
            "warnings": list(self.warnings),
        }
