"""Analysis: DataFrames in, DataFrames out.

``datasets`` builds ADSL and a BDS dataset (ADQS) from the store; ``derive`` holds the pure
derivations (BASE, CHG/PCHG, responders, PGA 0/1, imputation, time to response); ``ci``
the intervals and tests; ``ard`` the long statistics table; ``tables`` formats it;
``plots`` draws the figures; ``endpoints`` computes the protocol's endpoints.
"""

from pustula.analysis.ci import (
    ContinuousSummary,
    PosteriorSummary,
    ProportionEstimate,
    WilcoxonResult,
    beta_binomial_posterior,
    proportion_ci,
    summarise_continuous,
    wilcoxon_change,
)
from pustula.analysis.datasets import AnalysisData, AnalysisSettings, build_analysis
from pustula.analysis.derive import (
    derive_param_imputed,
    derive_time_to_response,
    derive_var_base,
    derive_var_chg,
    derive_var_pga_response,
    derive_var_responders,
)
from pustula.analysis.endpoints import EndpointResult, compute_endpoints

__all__ = [
    "AnalysisData",
    "AnalysisSettings",
    "ContinuousSummary",
    "EndpointResult",
    "PosteriorSummary",
    "ProportionEstimate",
    "WilcoxonResult",
    "beta_binomial_posterior",
    "build_analysis",
    "compute_endpoints",
    "derive_param_imputed",
    "derive_time_to_response",
    "derive_var_base",
    "derive_var_chg",
    "derive_var_pga_response",
    "derive_var_responders",
    "proportion_ci",
    "summarise_continuous",
    "wilcoxon_change",
]
