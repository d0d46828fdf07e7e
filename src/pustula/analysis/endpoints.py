"""The protocol's endpoints computed from the analysis data, without any formatting."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from pustula.analysis.ci import CIMethod, ProportionEstimate, proportion_ci
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.derive import derive_var_pga_response, derive_var_responders
from pustula.protocol import Endpoint

__all__ = ["EndpointResult", "compute_endpoints", "responder_counts"]


@dataclass(frozen=True)
class EndpointResult:
    endpoint: str
    label: str
    visit: str
    definition: str
    responders: int
    n: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    alpha: float
    imputation: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def responder_counts(flags: pd.Series) -> tuple[int, int]:
    """(responders, N) from a CRITyFL column: Y counts, Y and N form the denominator."""
    known = flags.dropna()
    return int((known == "Y").sum()), int(known.size)


def _flags(analysis: AnalysisData, endpoint: Endpoint) -> pd.Series:
    """The endpoint's responder flags at its visit (Y, N, or missing: not evaluable)."""
    bds = analysis.adqs
    rows = bds[(bds["VISITCD"] == endpoint.visit)]
    if endpoint.kind == "pppasi_reduction":
        assert endpoint.threshold is not None  # guaranteed by the protocol model
        flagged = derive_var_responders(
            rows, cutoffs=(int(endpoint.threshold),), operator=endpoint.operator
        )
        return flagged.loc[flagged["PARAMCD"] == "PPPASI", "CRIT1FL"]
    flagged = derive_var_pga_response(
        rows, baseline_min=endpoint.baseline_min, min_improvement=endpoint.min_improvement
    )
    return flagged.loc[flagged["PARAMCD"] == "PGA", "CRIT1FL"]


def _definition(endpoint: Endpoint) -> str:
    if endpoint.kind == "pppasi_reduction":
        return f"PPPASI reduction from baseline {endpoint.operator} {endpoint.threshold:g}%"
    text = "PPP PGA 0 or 1"
    if endpoint.min_improvement:
        text += f" with >= {endpoint.min_improvement}-grade improvement"
    if endpoint.baseline_min is not None:
        text += f", subjects with baseline PGA >= {endpoint.baseline_min}"
    return text


def compute_endpoints(
    analysis: AnalysisData, *, method: CIMethod | None = None, alpha: float | None = None
) -> list[EndpointResult]:
    """Each protocol endpoint: responders, N, rate and its confidence interval."""
    settings = analysis.settings
    ci_method: CIMethod = method or settings.ci_method
    level = alpha if alpha is not None else settings.alpha
    results = []
    for endpoint in analysis.study.protocol.endpoints:
        if settings.endpoint_operator is not None and endpoint.kind == "pppasi_reduction":
            endpoint = endpoint.model_copy(update={"operator": settings.endpoint_operator})
        x, n = responder_counts(_flags(analysis, endpoint))
        estimate: ProportionEstimate | None = (
            proportion_ci(x, n, method=ci_method, alpha=level) if n else None
        )
        results.append(
            EndpointResult(
                endpoint=endpoint.id,
                label=endpoint.label,
                visit=endpoint.visit,
                definition=_definition(endpoint),
                responders=x,
                n=n,
                rate=None if estimate is None else estimate.estimate,
                ci_low=None if estimate is None else estimate.low,
                ci_high=None if estimate is None else estimate.high,
                method=ci_method,
                alpha=level,
                imputation=settings.imputation,
            )
        )
    return results
