"""Responder estimates, and the protocol's endpoints, without any formatting.

One function, :func:`responder_estimate`, turns the responder flags of one visit into
counts, an interval and a posterior. The endpoints, the ARD (and so every table) and the
figures all call it on the same ADQS flags, derived once with one set of settings, so no
two outputs of one analysis can disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from pustula.analysis.ci import (
    PosteriorSummary,
    ProportionEstimate,
    beta_binomial_posterior,
    proportion_ci,
)
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.settings import AnalysisSettings
from pustula.protocol import Endpoint

__all__ = [
    "EndpointResult",
    "ResponderEstimate",
    "compute_endpoints",
    "endpoint_definition",
    "responder_counts",
    "responder_estimate",
    "responder_flags",
]

GLYPH = {">=": "≥", ">": ">"}


@dataclass(frozen=True)
class ResponderEstimate:
    """Responders of one visit: counts, the interval and the Beta posterior (if n > 0)."""

    x: int
    n: int
    not_evaluable: int
    ci: ProportionEstimate | None
    posterior: PosteriorSummary | None


@dataclass(frozen=True)
class EndpointResult:
    """One endpoint's result: responders of n, the rate, its confidence interval with the
    method and level, the imputation, and the subjects left out of the denominator.

    Examples
    --------
    >>> from pustula.analysis import compute_endpoints
    >>> week4 = compute_endpoints(demo_analysis())[0]
    >>> week4.endpoint, week4.responders, week4.n, week4.method
    ('PPPASI50_W4', 6, 6, 'clopper-pearson')
    >>> round(week4.ci_low, 3), round(week4.ci_high, 3)
    (0.541, 1.0)
    """

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
    #: Full analysis set subjects left out of the denominator: no value at the visit
    #: (observed cases), a baseline of 0, or a baseline PGA below the plan's minimum.
    not_evaluable: int = 0
    posterior_threshold: float = 0.5
    posterior_p_above: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def responder_counts(flags: pd.Series) -> tuple[int, int]:
    """(responders, N) from a CRITyFL column: Y counts, Y and N form the denominator."""
    known = flags.dropna()
    return int((known == "Y").sum()), int(known.size)


def responder_flags(analysis: AnalysisData, visit: str, crit: int) -> pd.Series:
    """CRITyFL of the full analysis set at ``visit``, one per subject (PPPASI or PGA)."""
    paramcd = "PGA" if crit == analysis.pga_crit else "PPPASI"
    bds = analysis.efficacy
    rows = bds[(bds["VISITCD"] == visit) & (bds["PARAMCD"] == paramcd)]
    return rows.set_index("USUBJID")[f"CRIT{crit}FL"]


def responder_estimate(
    flags: pd.Series, settings: AnalysisSettings, *, population: int
) -> ResponderEstimate:
    """Counts, interval and posterior of one set of flags, with the analysis' settings."""
    x, n = responder_counts(flags)
    if n == 0:
        return ResponderEstimate(x, n, population, None, None)
    ci = proportion_ci(x, n, method=settings.ci_method, alpha=settings.alpha)
    posterior = beta_binomial_posterior(
        x,
        n,
        threshold=settings.posterior_threshold,
        prior=settings.posterior_prior,
        alpha=settings.alpha,
    )
    return ResponderEstimate(x, n, population - n, ci, posterior)


def endpoint_definition(endpoint: Endpoint, settings: AnalysisSettings) -> str:
    """The endpoint in words, from the one definition the analysis used."""
    if endpoint.kind == "pppasi_reduction":
        return f"PPPASI reduction from baseline {GLYPH[settings.operator]} {endpoint.threshold}%"
    return pga_definition(settings)


def pga_definition(settings: AnalysisSettings) -> str:
    text = "PPP PGA 0 (clear) or 1 (almost clear)"
    if settings.pga_min_improvement:
        text += f" with ≥ {settings.pga_min_improvement}-grade improvement"
    if settings.pga_baseline_min is not None:
        text += f", in subjects with baseline PGA ≥ {settings.pga_baseline_min}"
    return text


def compute_endpoints(analysis: AnalysisData) -> list[EndpointResult]:
    """Each protocol endpoint: responders, N, rate, its confidence interval and posterior.

    Examples
    --------
    >>> [(r.endpoint, r.responders, r.n) for r in compute_endpoints(demo_analysis())][:3]
    [('PPPASI50_W4', 6, 6), ('PPPASI80_W4', 3, 6), ('PPPASI50_W12', 6, 6)]
    """
    settings = analysis.settings
    population = int((analysis.adsl["FASFL"] == "Y").sum())
    results = []
    for endpoint in analysis.study.protocol.endpoints:
        crit = (
            analysis.crit(endpoint.threshold)
            if endpoint.threshold is not None
            else analysis.pga_crit
        )
        est = responder_estimate(
            responder_flags(analysis, endpoint.visit, crit), settings, population=population
        )
        ci, post = est.ci, est.posterior
        results.append(
            EndpointResult(
                endpoint=endpoint.id,
                label=endpoint.label,
                visit=endpoint.visit,
                definition=endpoint_definition(endpoint, settings),
                responders=est.x,
                n=est.n,
                rate=None if ci is None else ci.estimate,
                ci_low=None if ci is None else ci.low,
                ci_high=None if ci is None else ci.high,
                method=settings.ci_method,
                alpha=settings.alpha,
                imputation=settings.imputation,
                not_evaluable=est.not_evaluable,
                posterior_threshold=settings.posterior_threshold,
                posterior_p_above=None if post is None else post.p_above_threshold,
            )
        )
    return results
