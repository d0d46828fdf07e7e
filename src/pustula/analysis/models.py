"""Regression models adjusted for baseline and strata: ANCOVA (least squares) for a change
from baseline, and logistic regression (maximum likelihood) for a response.

Both take one row per subject: the arm as 1 (treated) or 0 (control), the baseline as a
covariate, each stratification factor as a classification effect. The arm's effect is the
result; least-squares means weigh each stratum level equally, as SAS LSMEANS and R's
emmeans do by default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from pustula.analysis.compare import Effect
from pustula.errors import AnalysisError

__all__ = ["AncovaResult", "ancova", "logistic_effect"]


@dataclass(frozen=True)
class _Design:
    matrix: np.ndarray
    names: tuple[str, ...]
    #: the row of covariate values at which each arm's least-squares mean is taken
    margin: np.ndarray


def _design(frame: pd.DataFrame, arm: str, covariates: Sequence[str],
            factors: Sequence[str]) -> _Design:  # fmt: skip
    columns = [np.ones(len(frame)), frame[arm].to_numpy(dtype=float)]
    names = ["intercept", arm]
    margin = [1.0, 0.0]
    for name in covariates:
        values = frame[name].to_numpy(dtype=float)
        columns.append(values)
        names.append(name)
        margin.append(float(values.mean()))
    for name in factors:
        levels = sorted(frame[name].astype(str).unique())
        for level in levels[1:]:  # the first level is the reference
            columns.append((frame[name].astype(str) == level).to_numpy(dtype=float))
            names.append(f"{name}={level}")
            margin.append(1 / len(levels))
    return _Design(np.column_stack(columns), tuple(names), np.array(margin))


def _complete(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame]
    if missing:
        raise AnalysisError(f"the data have no column {', '.join(missing)}", field=missing[0])
    return frame.dropna(subset=list(columns)).reset_index(drop=True)


@dataclass(frozen=True)
class AncovaResult:
    """The arm's adjusted difference in means, and each arm's least-squares mean.

    Examples
    --------
    >>> frame = pd.DataFrame({"arm": [1, 1, 1, 0, 0, 0], "base": [20, 30, 25, 22, 28, 26],
    ...                       "chg": [-12, -15, -14, -4, -6, -5]})
    >>> result = ancova(frame, "chg", arm="arm", covariates=["base"])
    >>> round(result.difference.estimate, 2), result.df
    (-8.77, 3)
    """

    difference: Effect
    ls_means: Mapping[int, float]
    df: int
    n: int
    residual_sd: float


def ancova(
    frame: pd.DataFrame,
    outcome: str,
    *,
    arm: str,
    covariates: Sequence[str] = (),
    factors: Sequence[str] = (),
    alpha: float = 0.05,
) -> AncovaResult:
    """``outcome ~ arm + covariates + factors`` by least squares; subjects with a missing
    value in any of these are left out. The arm's coefficient is the adjusted difference
    (treated minus control), with its t interval and p.

    >>> frame = pd.DataFrame({"arm": [1, 1, 1, 0, 0, 0], "chg": [-12, -15, -14, -4, -6, -5]})
    >>> ancova(frame, "chg", arm="arm").difference.estimate
    -8.666666666666666
    """
    data = _complete(frame, [outcome, arm, *covariates, *factors])
    design = _design(data, arm, covariates, factors)
    x, y = design.matrix, data[outcome].to_numpy(dtype=float)
    n, p = x.shape
    if np.linalg.matrix_rank(x) < p or n <= p:
        raise AnalysisError(
            f"the ANCOVA of {outcome} cannot be estimated: {n} subjects for {p} terms, or a "
            "term that the data do not separate (one arm only, or a stratum in one arm)",
            field=outcome,
        )
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    residual = y - x @ beta
    df = n - p
    sigma2 = float(residual @ residual) / df
    se = math.sqrt(sigma2 * xtx_inv[1, 1])
    t = float(stats.t.ppf(1 - alpha / 2, df))
    estimate = float(beta[1])
    p_value = float(2 * stats.t.sf(abs(estimate / se), df))
    treated, control = design.margin.copy(), design.margin.copy()
    treated[1], control[1] = 1.0, 0.0
    return AncovaResult(
        difference=Effect(
            "difference in means",
            estimate,
            estimate - t * se,
            estimate + t * se,
            "ANCOVA (least squares), t interval",
            alpha,
            p_value,
        ),
        ls_means={1: float(treated @ beta), 0: float(control @ beta)},
        df=df,
        n=n,
        residual_sd=math.sqrt(sigma2),
    )


def logistic_fit(x: np.ndarray, y: np.ndarray, *, what: str) -> tuple[np.ndarray, float]:
    """Maximum likelihood coefficients of a logistic model and its log-likelihood, by
    Newton–Raphson; separated data (no finite estimate) are an :class:`AnalysisError`.

    >>> x = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> beta, loglik = logistic_fit(x, np.array([0, 0, 1, 0, 1, 1.0]), what="response")
    >>> round(float(beta[1]), 4), round(loglik, 4)
    (1.3863, -3.8191)
    """
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        mu = 1 / (1 + np.exp(-(x @ beta)))
        information = x.T @ (x * (mu * (1 - mu))[:, None])
        try:
            step = np.linalg.solve(information, x.T @ (y - mu))
        except np.linalg.LinAlgError:
            break
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    mu = 1 / (1 + np.exp(-(x @ beta)))
    if not np.all(np.isfinite(beta)) or np.max(np.abs(beta)) > 20 or np.min(mu * (1 - mu)) < 1e-8:
        raise AnalysisError(
            f"the logistic regression of {what} has no finite estimate: the responses "
            "are separated by arm or by a covariate (report the exact test instead)",
            field=what,
        )
    loglik = float(np.sum(y * np.log(mu) + (1 - y) * np.log(1 - mu)))
    return beta, loglik


def logistic_effect(
    frame: pd.DataFrame,
    response: str,
    *,
    arm: str,
    covariates: Sequence[str] = (),
    factors: Sequence[str] = (),
    alpha: float = 0.05,
) -> Effect:
    """The arm's odds ratio from ``logit P(response) ~ arm + covariates + factors`` by
    maximum likelihood (Newton–Raphson), with its Wald interval and p.

    Complete or quasi-complete separation (every treated subject a responder, say) has no
    finite estimate: that is an :class:`AnalysisError`, never a huge number.

    Examples
    --------
    >>> frame = pd.DataFrame({"arm": [1] * 6 + [0] * 6,
    ...                       "base": [20, 30, 25, 22, 28, 26, 21, 29, 24, 23, 27, 25],
    ...                       "resp": [1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0]})
    >>> effect = logistic_effect(frame, "resp", arm="arm", covariates=["base"])
    >>> effect.measure, round(effect.estimate, 2)
    ('odds ratio', 10.65)
    """
    data = _complete(frame, [response, arm, *covariates, *factors])
    design = _design(data, arm, covariates, factors)
    x, y = design.matrix, data[response].to_numpy(dtype=float)
    if not set(np.unique(y)) <= {0.0, 1.0}:
        raise AnalysisError(f"{response} must be 0 or 1 for each subject", field=response)
    beta, _ = logistic_fit(x, y, what=response)
    mu = 1 / (1 + np.exp(-(x @ beta)))
    covariance = np.linalg.inv(x.T @ (x * (mu * (1 - mu))[:, None]))
    se = math.sqrt(covariance[1, 1])
    z = float(stats.norm.ppf(1 - alpha / 2))
    b = float(beta[1])
    p_value = float(2 * stats.norm.sf(abs(b / se)))
    return Effect("odds ratio", math.exp(b), math.exp(b - z * se), math.exp(b + z * se),
                  "logistic regression (maximum likelihood), Wald interval", alpha,
                  p_value)  # fmt: skip
