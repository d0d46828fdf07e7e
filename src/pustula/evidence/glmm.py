"""The binomial–normal model for single-arm proportions, by maximum likelihood.

Each study's responders are binomial with logit p_i = μ + u_i, u_i ~ N(0, τ²). The marginal
likelihood integrates each u_i out by adaptive Gauss–Hermite quadrature (20 nodes centred
on each study's mode and scaled by its curvature; Liu & Pierce 1994), the same model as
metafor's ``rma.glmm(measure = "PLO", method = "ML")`` fitted by lme4. It needs no
continuity correction: 0/n and n/n studies contribute exactly.

Reference: Stijnen T, Hamza TH, Ozdemir P. Random effects meta-analysis of event outcome in
the framework of the generalized linear mixed model. Stat Med 2010;29:3046-3067.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, special, stats

from pustula.errors import DataValidationError
from pustula.evidence.meta import MetaResult, escalc

__all__ = ["glmm_proportions"]

_NODES, _WEIGHTS = np.polynomial.hermite.hermgauss(20)


def _log_marginal(mu: float, tau: float, x: np.ndarray, n: np.ndarray) -> float:
    """Σ log ∫ Bin(x | n, expit(μ + τ·z)) φ(z) dz, by adaptive quadrature."""
    if tau < 1e-8:
        p = special.expit(mu)
        return float(np.sum(stats.binom.logpmf(x, n, p)))
    # mode of each study's integrand in z: a few Newton steps on
    # g(z) = x·θ − n·log(1 + e^θ) − z²/2, θ = μ + τz
    z = np.zeros_like(x, dtype=float)
    for _ in range(30):
        p = special.expit(mu + tau * z)
        grad = tau * (x - n * p) - z
        hess = -(tau**2) * n * p * (1 - p) - 1
        step = grad / hess
        z -= step
        if np.abs(step).max() < 1e-12:
            break
    p = special.expit(mu + tau * z)
    scale = 1 / np.sqrt(tau**2 * n * p * (1 - p) + 1)
    u = z[:, None] + math.sqrt(2) * scale[:, None] * _NODES[None, :]
    theta = mu + tau * u
    log_f = (special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1))[:, None]
    log_f = log_f + x[:, None] * theta - n[:, None] * np.logaddexp(0, theta)
    log_f += -0.5 * u**2 - 0.5 * math.log(2 * math.pi) + _NODES[None, :] ** 2
    # log Σ w·e^f per study, by hand: scipy's logsumexp costs half of a whole fit here
    top = log_f.max(axis=1)
    total = np.log(np.exp(log_f - top[:, None]) @ _WEIGHTS) + top
    return float(np.sum(total + np.log(math.sqrt(2) * scale)))


def glmm_proportions(
    events: Sequence[float], n: Sequence[float], *, level: float = 0.95,
    labels: Sequence[str] = (),
) -> MetaResult:  # fmt: skip
    """Pooled proportion, τ² (logit scale), CI and prediction interval of the binomial–normal
    model, with metafor's two tests for heterogeneity and its I² and H².

    The tests compare the fixed-effect binomial model (one proportion) with the saturated
    one (a proportion per study), as ``rma.glmm`` does (its ``QE.Wld``, ``QE.LRT``):

    - Wald: the saturated model's study effects tested against equality. Its estimates are
      the observed logits with variances 1/x + 1/(n − x); a study with 0 or n events has an
      infinite estimate and variance, so it adds nothing (glm stops at a huge variance, and
      metafor's value agrees to about 1e-6).
    - Likelihood ratio: the deviance 2 Σ [x log(x / n p̂) + (n − x) log((n − x) / n (1 − p̂))]
      with p̂ = Σx / Σn and 0 · log 0 = 0.

    I² and H² use τ² and the typical within-study variance of the logit effect sizes (1/2
    added to the cells of a study with 0 or n events), as metafor's rma.glmm.

    Examples
    --------
    >>> result = glmm_proportions([6, 13, 21], [6, 21, 34])
    >>> result.method, round(result.estimate, 3)
    ('ML', 0.656)
    """
    x, m = np.asarray(events, dtype=float), np.asarray(n, dtype=float)
    if x.size < 2 or ((x < 0) | (x > m) | (m <= 0)).any():
        raise DataValidationError("the model needs at least 2 studies with 0 <= events <= n")

    def minus(params: np.ndarray) -> float:
        return -_log_marginal(params[0], math.exp(params[1]), x, m)

    start = float(special.logit((x.sum() + 0.5) / (m.sum() + 1)))
    # quasi-Newton from two starting spreads (a small and a moderate τ), the better kept:
    # a third of the likelihood evaluations Nelder-Mead needed for the same optimum
    tolerances = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 500}
    fits = [optimize.minimize(minus, np.array([start, log_tau]), method="L-BFGS-B",
                              options=tolerances) for log_tau in (-2.0, 0.0)]  # fmt: skip
    best = min(fits, key=lambda fit: fit.fun)
    mu, tau = float(best.x[0]), math.exp(best.x[1])
    at_zero = optimize.minimize_scalar(
        lambda v: -_log_marginal(v, 0.0, x, m), bounds=(start - 10, start + 10), method="bounded"
    )
    if at_zero.fun <= best.fun + 1e-10:
        mu, tau = float(at_zero.x), 0.0
    se = _standard_error(mu, tau, x, m)
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    tau2 = tau**2
    ci = (mu - z * se, mu + z * se)
    pi = (mu - z * math.sqrt(tau2 + se**2), mu + z * math.sqrt(tau2 + se**2))
    logit = escalc("PLO", x.tolist(), m.tolist())
    w = 1 / logit.vi
    k = x.size
    typical = (k - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2))
    wald, lrt = _wald_heterogeneity(x, m), _lrt_heterogeneity(x, m)
    back = [float(special.expit(v)) for v in (mu, *ci, *pi)]
    return MetaResult(
        measure="GLMM", method="ML", k=k, mu=mu, se=se, ci=ci, pi=pi, tau2=tau2, q=wald,
        q_p=float(stats.chi2.sf(wald, k - 1)), q_test="Wald", q_lrt=lrt,
        q_lrt_p=float(stats.chi2.sf(lrt, k - 1)), i2=float(100 * tau2 / (tau2 + typical)),
        h2=float((tau2 + typical) / typical), hk=False, estimate=back[0], ci_low=back[1],
        ci_high=back[2], pi_low=back[3], pi_high=back[4],
        note="binomial-normal model by ML (adaptive 20-point Gauss-Hermite); no continuity "
        "correction", labels=tuple(labels),
    )  # fmt: skip


def _wald_heterogeneity(x: np.ndarray, m: np.ndarray) -> float:
    inner = (x > 0) & (x < m)
    if inner.sum() < 2:
        return 0.0
    y = np.log(x[inner] / (m[inner] - x[inner]))
    w = 1 / (1 / x[inner] + 1 / (m[inner] - x[inner]))
    centre = np.sum(w * y) / np.sum(w)
    return float(np.sum(w * (y - centre) ** 2))


def _lrt_heterogeneity(x: np.ndarray, m: np.ndarray) -> float:
    p = x.sum() / m.sum()
    if p in (0.0, 1.0):
        return 0.0
    expected = special.xlogy(x, x / (m * p)) + special.xlogy(m - x, (m - x) / (m * (1 - p)))
    return float(2 * np.sum(expected))


def _standard_error(mu: float, tau: float, x: np.ndarray, m: np.ndarray) -> float:
    """SE of μ from the inverse of the observed information in (μ, τ), as lme4 computes it
    (with τ at 0, from μ alone)."""
    h = 1e-4

    def f(a: float, b: float) -> float:
        return _log_marginal(a, b, x, m)

    d_mm = (f(mu + h, tau) - 2 * f(mu, tau) + f(mu - h, tau)) / h**2
    if tau == 0.0:
        return math.sqrt(-1 / d_mm)
    d_tt = (f(mu, tau + h) - 2 * f(mu, tau) + f(mu, tau - h)) / h**2
    d_mt = (f(mu + h, tau + h) - f(mu + h, tau - h) - f(mu - h, tau + h)
            + f(mu - h, tau - h)) / (4 * h**2)  # fmt: skip
    information = -np.array([[d_mm, d_mt], [d_mt, d_tt]])
    return float(math.sqrt(np.linalg.inv(information)[0, 0]))
