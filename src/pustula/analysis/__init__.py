"""Analysis: DataFrames in, DataFrames out.

``datasets`` builds ADSL and a BDS dataset (ADQS) from the store; ``derive`` holds the pure
derivations (BASE, CHG/PCHG, responders, PGA 0/1, imputation, time to response); ``ci``
the intervals and tests; ``ard`` the long statistics table; ``tables`` formats it;
``plots`` draws the figures; ``endpoints`` computes the protocol's endpoints. For a
randomized trial: ``populations`` (ITT, modified ITT, per protocol), ``compare`` (two arms
on a binary endpoint, and stratified), ``models`` (ANCOVA, logistic regression), ``mmrm``
(repeated measures) and ``trial``, which puts them together (:func:`analyse_trial`).
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
from pustula.analysis.compare import (
    BinaryComparison,
    Effect,
    StratifiedComparison,
    compare_proportions,
    stratified_comparison,
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
from pustula.analysis.mmrm import MmrmResult, mmrm
from pustula.analysis.models import AncovaResult, ancova, logistic_effect
from pustula.analysis.trial import TrialAnalysis, analyse_trial

__all__ = [
    "AnalysisData",
    "AnalysisSettings",
    "AncovaResult",
    "BinaryComparison",
    "ContinuousSummary",
    "Effect",
    "EndpointResult",
    "MmrmResult",
    "PosteriorSummary",
    "ProportionEstimate",
    "StratifiedComparison",
    "TrialAnalysis",
    "WilcoxonResult",
    "analyse_trial",
    "ancova",
    "beta_binomial_posterior",
    "build_analysis",
    "compare_proportions",
    "compute_endpoints",
    "derive_param_imputed",
    "derive_time_to_response",
    "derive_var_base",
    "derive_var_chg",
    "derive_var_pga_response",
    "derive_var_responders",
    "logistic_effect",
    "mmrm",
    "proportion_ci",
    "stratified_comparison",
    "summarise_continuous",
    "wilcoxon_change",
]
