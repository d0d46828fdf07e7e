"""A mixed model for repeated measures (MMRM): change from baseline at each post-baseline
visit, with an unstructured covariance between a subject's visits, fitted by REML.

Fixed effects: each visit's intercept, the arm's effect at each visit (arm × visit) and
the baseline's slope at each visit (baseline × visit), and each stratification factor.
This is the model of R's ``nlme::gls(chg ~ visit * arm + visit * base + strata,
correlation = corSymm(form = ~ visit | id), weights = varIdent(form = ~ 1 | visit),
method = "REML")``: the same fixed-effect space and the same unstructured covariance.
A subject contributes the visits they have; missing visits are missing at random.

Least-squares means are taken at the mean baseline, with stratum levels weighed
equally. Degrees of freedom are Satterthwaite's, from the observed REML information.

The REML criterion and its gradient are sums over missingness patterns of cross-products
computed once, so one evaluation costs the same for 100 or 100,000 subjects.

References
----------
Mallinckrodt CH, et al. Recommendations for the primary analysis of continuous endpoints
in longitudinal clinical trials. Drug Inf J 2008;42:303-319. doi:10.1177/009286150804200402
Satterthwaite FE. Biometrics Bull 1946;2:110-114. doi:10.2307/3002019
Pinheiro JC, Bates DM. Mixed-Effects Models in S and S-PLUS. Springer 2000 (gls, REML).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from pustula.errors import AnalysisError

__all__ = ["LsMean", "MmrmResult", "VisitContrast", "mmrm"]


@dataclass(frozen=True)
class LsMean:
    """One arm's least-squares mean at one visit."""

    visit: str
    arm: str
    estimate: float
    se: float
    df: float
    low: float
    high: float


@dataclass(frozen=True)
class VisitContrast:
    """Treated minus control at one visit: estimate, interval and two-sided p."""

    visit: str
    estimate: float
    se: float
    df: float
    low: float
    high: float
    p_value: float


@dataclass(frozen=True)
class MmrmResult:
    """What the MMRM gives: least-squares means, contrasts by visit, the covariance.

    Examples
    --------
    >>> rng = np.random.default_rng(7)
    >>> rows = [{"id": i, "visit": v, "arm": "T" if i % 2 else "C", "base": 20 + i % 7,
    ...          "chg": -3 * (v == "W4") - 6 * (i % 2) + rng.normal(0, 3)}
    ...         for i in range(40) for v in ("W2", "W4")]
    >>> result = mmrm(pd.DataFrame(rows), "chg", subject="id", visit="visit", arm="arm",
    ...               baseline="base", treated="T", control="C")
    >>> [c.visit for c in result.contrasts], result.df_method
    (['W2', 'W4'], 'Satterthwaite')
    """

    ls_means: tuple[LsMean, ...]
    contrasts: tuple[VisitContrast, ...]
    visits: tuple[str, ...]
    covariance: np.ndarray
    coefficients: pd.Series
    n_subjects: int
    n_observations: int
    reml_criterion: float  # -2 x the REML log-likelihood, up to its constant
    df_method: str = "Satterthwaite"
    alpha: float = 0.05


@dataclass(frozen=True)
class _Pattern:
    """The subjects who share one set of observed visits, as cross-products."""

    visits: np.ndarray  # indices into the visit order
    count: int
    xx: np.ndarray  # [j, k] -> sum_i x_ij x_ik'  (j, k index the pattern's visits)
    xy: np.ndarray  # [j, k] -> sum_i x_ij y_ik
    yy: np.ndarray  # [j, k] -> sum_i y_ij y_ik


class _Reml:
    """-2 x the REML log-likelihood (without its constant) as a function of the lower
    Cholesky factor of the covariance, diagonal on the log scale, with its gradient."""

    def __init__(self, patterns: list[_Pattern], visits: int, columns: int) -> None:
        self.patterns, self.t, self.p = patterns, visits, columns
        self.lower = np.tril_indices(visits)

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        factor = np.zeros((self.t, self.t))
        factor[self.lower] = theta
        factor[np.diag_indices(self.t)] = np.exp(np.diag(factor))
        return factor @ factor.T

    def _sums(
        self, sigma: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, float, float, list[np.ndarray]]:
        a = np.zeros((self.p, self.p))
        b = np.zeros(self.p)
        yy, logdet, weights = 0.0, 0.0, []
        for pat in self.patterns:
            sub = sigma[np.ix_(pat.visits, pat.visits)]
            chol = linalg.cho_factor(sub, lower=True)
            w = linalg.cho_solve(chol, np.eye(len(pat.visits)))
            weights.append(w)
            logdet += pat.count * 2 * float(np.log(np.diag(chol[0])).sum())
            a += np.einsum("jk,jkab->ab", w, pat.xx)
            b += np.einsum("jk,jka->a", w, pat.xy)
            yy += float(np.einsum("jk,jk->", w, pat.yy))
        return a, b, yy, logdet, weights

    def value(self, theta: np.ndarray) -> float:
        try:
            a, b, yy, logdet, _ = self._sums(self.sigma(theta))
            chol_a = linalg.cho_factor(a, lower=True)
        except (linalg.LinAlgError, ValueError):
            return math.inf
        beta = linalg.cho_solve(chol_a, b)
        return logdet + 2 * float(np.log(np.diag(chol_a[0])).sum()) + yy - float(b @ beta)

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        sigma = self.sigma(theta)
        a, b, _, _, weights = self._sums(sigma)
        a_inv = linalg.inv(a)
        beta = a_inv @ b
        grad_sigma = np.zeros((self.t, self.t))
        for pat, w in zip(self.patterns, weights, strict=True):
            # d/dW_jk: tr(A^-1 M_jk) + the residual cross-product sum_i r_ij r_ik
            g = (
                np.einsum("ab,jkba->jk", a_inv, pat.xx)
                + pat.yy
                - np.einsum("a,jka->jk", beta, pat.xy)
                - np.einsum("a,kja->jk", beta, pat.xy)
                + np.einsum("a,jkab,b->jk", beta, pat.xx, beta)
            )
            grad_sigma[np.ix_(pat.visits, pat.visits)] += pat.count * w - w @ g @ w
        factor = np.zeros((self.t, self.t))
        factor[self.lower] = theta
        factor[np.diag_indices(self.t)] = np.exp(np.diag(factor))
        grad_factor = 2 * grad_sigma @ factor
        grad_factor[np.diag_indices(self.t)] *= np.diag(factor)
        return np.asarray(grad_factor[self.lower])

    def fixed(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The GLS estimate of the fixed effects and its covariance at ``theta``."""
        a, b, _, _, _ = self._sums(self.sigma(theta))
        a_inv = linalg.inv(a)
        return a_inv @ b, a_inv


def _columns(frame: pd.DataFrame, visits: Sequence[str], factors: Sequence[str]
             ) -> tuple[list[str], np.ndarray, np.ndarray]:  # fmt: skip
    """Names, design rows and the least-squares-mean margin of the strata columns."""
    names, columns, margin = [], [], []
    for name in factors:
        values = frame[name].astype(str)
        levels = sorted(values.unique())
        for level in levels[1:]:
            names.append(f"{name}={level}")
            columns.append((values == level).to_numpy(dtype=float))
            margin.append(1 / len(levels))
    rows = np.column_stack(columns) if columns else np.zeros((len(frame), 0))
    return names, rows, np.array(margin)


def _patterns(frame: pd.DataFrame, x: np.ndarray, y: np.ndarray, subject: str,
              visit_index: np.ndarray, t: int) -> list[_Pattern]:  # fmt: skip
    order = np.lexsort((visit_index, frame[subject].to_numpy()))
    subjects = frame[subject].to_numpy()[order]
    idx, xs, ys = visit_index[order], x[order], y[order]
    starts = np.flatnonzero(np.r_[True, subjects[1:] != subjects[:-1]])
    ends = np.r_[starts[1:], len(subjects)]
    groups: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for s, e in zip(starts, ends, strict=True):
        groups.setdefault(tuple(int(i) for i in idx[s:e]), []).append((int(s), int(e)))
    patterns = []
    for key, spans in groups.items():
        xa = np.stack([xs[s:e] for s, e in spans])  # subjects x m x p
        ya = np.stack([ys[s:e] for s, e in spans])  # subjects x m
        patterns.append(
            _Pattern(
                visits=np.array(key),
                count=len(spans),
                xx=np.einsum("ija,ikb->jkab", xa, xa),
                xy=np.einsum("ija,ik->jka", xa, ya),
                yy=np.einsum("ij,ik->jk", ya, ya),
            )
        )
    return patterns


def _start(frame: pd.DataFrame, x: np.ndarray, y: np.ndarray, subject: str,
           visit_index: np.ndarray, t: int) -> np.ndarray:  # fmt: skip
    """Starting values: the Cholesky factor of the residual covariance of least squares,
    from the pairs each two visits share."""
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    residuals = pd.DataFrame({"s": frame[subject].to_numpy(), "v": visit_index, "r": y - x @ beta})
    wide = residuals.pivot_table(index="s", columns="v", values="r")
    cov = wide.reindex(columns=range(t)).cov(min_periods=2).to_numpy()
    variances = np.nanmax(np.r_[np.diag(cov), [1e-6]]) * np.ones(t)
    diag = np.where(np.isfinite(np.diag(cov)) & (np.diag(cov) > 0), np.diag(cov), variances)
    cov = np.where(np.isfinite(cov), cov, 0.0)
    cov[np.diag_indices(t)] = diag
    values, vectors = np.linalg.eigh(cov)
    cov = vectors @ np.diag(np.maximum(values, 1e-3 * values.max())) @ vectors.T
    factor = np.linalg.cholesky(cov)
    factor[np.diag_indices(t)] = np.log(np.diag(factor))
    return factor[np.tril_indices(t)]


def mmrm(
    frame: pd.DataFrame,
    outcome: str,
    *,
    subject: str,
    visit: str,
    arm: str,
    baseline: str,
    treated: str,
    control: str,
    factors: Sequence[str] = (),
    visits: Sequence[str] | None = None,
    alpha: float = 0.05,
) -> MmrmResult:
    """Fit the MMRM to one row per subject and post-baseline visit (long format).

    ``visits`` gives their order (by default as they first appear); rows whose outcome,
    baseline or factor is missing are left out, as R's ``na.omit`` does.

    >>> rows = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6],
    ...     "visit": ["W4", "W8"] * 6, "arm": ["T"] * 6 + ["C"] * 6,
    ...     "base": [20, 20, 30, 30, 25, 25, 22, 22, 28, 28, 26, 26],
    ...     "chg": [-8, -12, -10, -15, -9, -11, -2, -3, -4, -2, -3, -5]})
    >>> fit = mmrm(rows, "chg", subject="id", visit="visit", arm="arm", baseline="base",
    ...            treated="T", control="C")
    >>> [round(c.estimate, 2) for c in fit.contrasts]
    [-6.08, -9.4]
    """
    needed = [outcome, subject, visit, arm, baseline, *factors]
    absent = [c for c in needed if c not in frame]
    if absent:
        raise AnalysisError(f"the data have no column {', '.join(absent)}", field=absent[0])
    data = frame.dropna(subset=needed).reset_index(drop=True)
    data = data[data[arm].isin([treated, control])].reset_index(drop=True)
    order = list(visits) if visits is not None else list(pd.unique(data[visit]))
    data = data[data[visit].isin(order)].reset_index(drop=True)
    if data.duplicated([subject, visit]).any():
        raise AnalysisError("a subject has two rows for one visit", field=visit)
    t = len(order)
    if data.empty or t == 0:
        raise AnalysisError(f"there are no values of {outcome} after baseline to model",
                            field=outcome)  # fmt: skip
    index = data[visit].map({v: i for i, v in enumerate(order)}).to_numpy()
    treated_flag = (data[arm] == treated).to_numpy(dtype=float)
    base = data[baseline].to_numpy(dtype=float)
    onehot = np.eye(t)[index]
    strata_names, strata, strata_margin = _columns(data, order, factors)
    x = np.column_stack([onehot, onehot * treated_flag[:, None], onehot * base[:, None], strata])
    names = ([f"visit={v}" for v in order] + [f"{treated}:visit={v}" for v in order]
             + [f"{baseline}:visit={v}" for v in order] + strata_names)  # fmt: skip
    y = data[outcome].to_numpy(dtype=float)
    n_subjects = data[subject].nunique()
    if np.linalg.matrix_rank(x) < x.shape[1] or len(data) <= x.shape[1] + t * (t + 1) // 2:
        raise AnalysisError(
            f"the MMRM of {outcome} cannot be estimated from these data: {n_subjects} "
            f"subjects, {len(data)} values, {x.shape[1]} fixed effects and "
            f"{t * (t + 1) // 2} covariance parameters, or an arm without a value at a visit",
            field=outcome,
        )
    reml = _Reml(_patterns(data, x, y, subject, index, t), t, x.shape[1])
    theta0 = _start(data, x, y, subject, index, t)
    fit = optimize.minimize(reml.value, theta0, jac=reml.gradient, method="BFGS",
                            options={"gtol": 1e-9, "maxiter": 2000})  # fmt: skip
    theta = fit.x
    beta, cov_beta = reml.fixed(theta)
    # Var(theta) = 2 H^-1, H the Hessian of -2 l_R (the observed REML information)
    hessian = _jacobian(reml.gradient, theta)
    var_theta = 2 * np.linalg.pinv((hessian + hessian.T) / 2)
    mean_base = float(base.mean())

    # d Cov(beta) / d theta_k, once: each contrast's gradient is then L dC_k L'
    dcov = _jacobian(lambda th: reml.fixed(th)[1].ravel(), theta).T.reshape(
        len(theta), *cov_beta.shape)  # fmt: skip

    def estimate(contrast: np.ndarray) -> tuple[float, float, float]:
        value = float(contrast @ beta)
        variance = float(contrast @ cov_beta @ contrast)
        grad = np.einsum("a,kab,b->k", contrast, dcov, contrast)
        denominator = float(grad @ var_theta @ grad)
        df = 2 * variance**2 / denominator if denominator > 0 else math.inf
        return value, math.sqrt(variance), df

    means, contrasts = [], []
    p = x.shape[1]
    for i, v in enumerate(order):
        for label, flag in ((treated, 1.0), (control, 0.0)):
            row = np.zeros(p)
            row[i], row[t + i], row[2 * t + i] = 1.0, flag, mean_base
            row[3 * t :] = strata_margin
            value, se, df = estimate(row)
            q = float(stats.t.ppf(1 - alpha / 2, df))
            means.append(LsMean(v, label, value, se, df, value - q * se, value + q * se))
        row = np.zeros(p)
        row[t + i] = 1.0
        value, se, df = estimate(row)
        q = float(stats.t.ppf(1 - alpha / 2, df))
        p_value = float(2 * stats.t.sf(abs(value / se), df))
        contrasts.append(VisitContrast(v, value, se, df, value - q * se, value + q * se, p_value))
    return MmrmResult(
        ls_means=tuple(means),
        contrasts=tuple(contrasts),
        visits=tuple(order),
        covariance=reml.sigma(theta),
        coefficients=pd.Series(beta, index=names),
        n_subjects=n_subjects,
        n_observations=len(data),
        reml_criterion=float(fit.fun),
        alpha=alpha,
    )


def _jacobian(function, theta: np.ndarray, step: float = 1e-5) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Central differences of a vector function of theta: rows are outputs."""
    columns = []
    for k in range(len(theta)):
        h = step * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        columns.append((np.asarray(function(up)) - np.asarray(function(down))) / (2 * h))
    return np.array(columns).T
