"""Analysis settings: the protocol's analysis plan plus what only an analysis chooses.

The settings are validated where they enter (a frozen pydantic model: Literals, alpha in
(0, 1), unknown names refused), so a misspelt option is an error, never a guess: ``"=>"``
is not ``">"`` and ``"nri"`` is not ``"NRI"``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError, field_validator

from pustula.errors import AnalysisError
from pustula.protocol import Protocol
from pustula.protocol.model import AnalysisPlan

__all__ = ["CUTOFFS", "AnalysisSettings", "confidence_label"]

CUTOFFS: tuple[int, ...] = (50, 75, 80, 90, 100)


class AnalysisSettings(AnalysisPlan):
    """The choices that change results; the report's methods section is written from these.

    The fields of :class:`~pustula.protocol.model.AnalysisPlan` (operator, baseline-zero
    rule, visit windows, imputation, CI method, alpha, PGA definition, rounding, Wilcoxon
    zeros) come from the protocol file through :meth:`from_protocol`; ``cutoffs``, the
    prior and the posterior threshold are the analysis' own.

    >>> AnalysisSettings(alpha=0.1).level_label
    '90% CI'
    >>> AnalysisSettings.build(operator="=>")
    Traceback (most recent call last):
    ...
    pustula.errors.AnalysisError: operator must be one of '>=', '>'; got '=>'
    """

    cutoffs: tuple[int, ...] = Field(default=CUTOFFS, min_length=1)
    posterior_prior: tuple[float, float] = (1.0, 1.0)
    posterior_threshold: float = Field(default=0.5, gt=0, lt=1)

    @field_validator("cutoffs")
    @classmethod
    def _whole_percents(cls, cutoffs: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 0 < c <= 100 for c in cutoffs):
            raise ValueError("cut-offs are whole percents from 1 to 100")
        return tuple(sorted(set(cutoffs)))

    @field_validator("posterior_prior")
    @classmethod
    def _positive_prior(cls, prior: tuple[float, float]) -> tuple[float, float]:
        if prior[0] <= 0 or prior[1] <= 0:
            raise ValueError("a Beta prior needs two positive parameters")
        return prior

    @property
    def level_label(self) -> str:
        """The interval's label, from alpha: ``95% CI`` at alpha 0.05."""
        return confidence_label(self.alpha)

    @classmethod
    def build(cls, **values: Any) -> AnalysisSettings:
        """Validate ``values`` into settings, or raise :class:`AnalysisError` naming the option."""
        try:
            return cls(**values)
        except ValidationError as exc:
            raise _analysis_error(exc) from exc

    @classmethod
    def from_protocol(cls, protocol: Protocol, **overrides: Any) -> AnalysisSettings:
        """The protocol's analysis plan, with ``overrides`` (None means "the plan's").

        Every endpoint's cut-off is added to ``cutoffs``, so the endpoint and the responder
        table come from one derivation.
        """
        chosen = {k: v for k, v in overrides.items() if v is not None}
        values: dict[str, Any] = {**protocol.analysis.model_dump(), **chosen}
        thresholds = {e.threshold for e in protocol.endpoints if e.threshold is not None}
        values["cutoffs"] = tuple(sorted(set(values.get("cutoffs", CUTOFFS)) | thresholds))
        return cls.build(**values)


def confidence_label(alpha: float) -> str:
    """``95% CI`` for alpha 0.05, ``90% CI`` for 0.1, ``97.5% CI`` for 0.025.

    >>> confidence_label(0.025)
    '97.5% CI'
    """
    return f"{100 * (1 - alpha):.10g}% CI"


def _analysis_error(exc: ValidationError) -> AnalysisError:
    messages = []
    for error in exc.errors():
        name = ".".join(str(p) for p in error["loc"]) or "settings"
        if error["type"] == "literal_error":
            allowed = error["ctx"]["expected"].replace(" or ", ", ")
            messages.append(f"{name} must be one of {allowed}; got {error['input']!r}")
        elif error["type"] == "extra_forbidden":
            messages.append(f"{name} is not an analysis setting")
        else:
            messages.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
    first = exc.errors()[0]["loc"]
    return AnalysisError("; ".join(messages), field=str(first[0]) if first else None)
