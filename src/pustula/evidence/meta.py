"""Meta-analysis of proportions and of two-arm comparisons, as R's metafor computes them.

Effect sizes (``escalc``): PLO (logit proportion), PFT (Freeman–Tukey double arcsine), RR, OR
(log scale) and RD. Models (``rma``): fixed effect by inverse variance, random effects with τ²
by DerSimonian–Laird, REML, maximum likelihood or Paule–Mandel, optionally with the
Hartung–Knapp(-Sidik-Jonkman) adjustment; Mantel–Haenszel fixed effect for RR, OR and RD.
Heterogeneity Q, I² and H² follow metafor (I² from τ² and the typical within-study variance),
and the prediction interval is μ ± z·√(τ² + SE²) (t with k − 1 df under Hartung–Knapp).

References: Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat
Softw 2010;36(3). DerSimonian R, Laird N. Control Clin Trials 1986;7:177-188. Paule RC,
Mandel J. J Res Natl Bur Stand 1982;87:377-385. Hartung J, Knapp G. Stat Med 2001;20:3875-89.
Miller JJ. The inverse of the Freeman–Tukey double arcsine transformation. Am Stat 1978;32:138.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
from scipy import optimize, stats

from pustula.errors import DataValidationError

__all__ = [
    "EffectSizes",
    "EggerTest",
    "MetaResult",
    "back_transform",
    "egger_test",
    "escalc",
    "leave_one_out",
    "mantel_haenszel",
    "mantel_haenszel_result",
    "rma",
    "subgroups",
]

Measure = Literal["PLO", "PFT", "RR", "OR", "RD"]
Tau2Method = Literal["FE", "DL", "REML", "ML", "PM"]
TWO_ARM = ("RR", "OR", "RD")


@dataclass(frozen=True)
class EffectSizes:
    """Effect sizes ``yi`` and sampling variances ``vi`` per study (``escalc``), with the
    studies that needed a continuity correction.

    Examples
    --------
    >>> es = escalc("PLO", [6, 0], [6, 10])  # both studies have a zero cell: 0.5 added to each
    >>> [int(i) for i in es.corrected], [round(float(y), 3) for y in es.yi]
    ([0, 1], [2.565, -3.045])
    """

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    n: np.ndarray  # total size per study (for the PFT back-transformation)
    corrected: tuple[int, ...] = ()  # indices of studies given a continuity correction
    correction: float = 0.5

    @property
    def note(self) -> str:
        if not self.corrected:
            return "no continuity correction was needed"
        return (f"{self.correction} was added to every cell of {len(self.corrected)} "
                "study(ies) with a zero cell")  # fmt: skip


def _array(values: Sequence[float], name: str) -> np.ndarray:
    out = np.asarray(values, dtype=float)
    if out.ndim != 1 or out.size == 0 or not np.isfinite(out).all():
        raise DataValidationError(f"{name}: needs finite numbers, one per study", field=name)
    return out


def escalc(
    measure: Measure, events: Sequence[float], n: Sequence[float],
    events_c: Sequence[float] | None = None, n_c: Sequence[float] | None = None,
    *, add: float = 0.5,
) -> EffectSizes:  # fmt: skip
    """Effect sizes and sampling variances, adding ``add`` to the cells of studies with a zero
    cell (metafor's ``to = "only0"``), except for PFT, which needs none.

    Examples
    --------
    >>> es = escalc("PLO", [13], [21])
    >>> round(float(es.yi[0]), 4), round(float(es.vi[0]), 4)
    (0.4855, 0.2019)
    """
    x, m = _array(events, "events"), _array(n, "n")
    if ((x < 0) | (x > m) | (m <= 0)).any():
        raise DataValidationError(
            "events must lie between 0 and n, and n be positive", field="events"
        )
    if measure in ("PLO", "PFT"):
        if measure == "PFT":
            yi = 0.5 * (np.arcsin(np.sqrt(x / (m + 1))) + np.arcsin(np.sqrt((x + 1) / (m + 1))))
            return EffectSizes(measure, yi, 1 / (4 * m + 2), m)
        zero = (x == 0) | (x == m)
        xa, fa = x + add * zero, m - x + add * zero
        return EffectSizes(measure, np.log(xa / fa), 1 / xa + 1 / fa, m,
                           tuple(np.flatnonzero(zero)), add)  # fmt: skip
    if measure not in TWO_ARM:
        raise DataValidationError(f"unknown measure `{measure}`", field="measure")
    if events_c is None or n_c is None:
        raise DataValidationError(f"{measure} needs events_c and n_c", field="events_c")
    c, mc = _array(events_c, "events_c"), _array(n_c, "n_c")
    a, b, d = x, m - x, mc - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    a, b, c, d = (v + add * zero for v in (a, b, c, d))
    n1, n2 = a + b, c + d
    if measure == "RR":
        yi, vi = np.log((a / n1) / (c / n2)), 1 / a - 1 / n1 + 1 / c - 1 / n2
    elif measure == "OR":
        yi, vi = np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d
    else:
        p1, p2 = a / n1, c / n2
        yi, vi = p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return EffectSizes(measure, yi, vi, m + mc, tuple(np.flatnonzero(zero)), add)


@dataclass(frozen=True)
class MetaResult:
    """A pooled estimate on the model scale (``mu``…) and on the measure's scale.

    Examples
    --------
    >>> result = rma(escalc("PLO", [6, 13, 21], [6, 21, 34]), "REML")
    >>> result.k, round(result.estimate, 3), round(result.tau2, 4)
    (3, 0.635, 0.0)
    """

    measure: str
    method: str
    k: int
    mu: float
    se: float
    ci: tuple[float, float]
    pi: tuple[float, float]
    tau2: float
    q: float
    q_p: float
    i2: float
    h2: float
    hk: bool
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    note: str = ""
    labels: tuple[str, ...] = field(default=())
    #: which test ``q`` is: Cochran's Q, or for the GLMM the Wald test that metafor's
    #: rma.glmm reports first (``QE.Wld``)
    q_test: str = "Cochran"
    #: the GLMM's likelihood-ratio test for heterogeneity (metafor's ``QE.LRT``), k − 1 df
    q_lrt: float | None = None
    q_lrt_p: float | None = None

    def summary(self) -> dict[str, float | int | str | None]:
        keys = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "h2", "q",
                "q_p", "q_test", "k", "mu", "se", "measure", "method", "hk", "note")  # fmt: skip
        values = asdict(self)
        out = {k: values[k] for k in keys}
        if self.q_lrt is not None:
            out |= {"q_lrt": self.q_lrt, "q_lrt_p": self.q_lrt_p}
        return out

    @property
    def heterogeneity_text(self) -> str:
        """The heterogeneity tests in words: ``Q 152.233 (p 1.7e-26)``, or for the GLMM
        ``Wald Q 3.462 (p 0.749), likelihood-ratio Q 26.841 (p 0.000155)``."""
        first = f"Q {self.q:.3f} (p {self.q_p:.4g})"
        if self.q_lrt is None:
            return first
        return f"Wald {first}, likelihood-ratio Q {self.q_lrt:.3f} (p {self.q_lrt_p:.4g})"


def _fixed(y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    mu = float(np.sum(w * y) / np.sum(w))
    return mu, float(math.sqrt(1 / np.sum(w)))


def _tau2(method: str, y: np.ndarray, v: np.ndarray) -> float:
    k = y.size
    w = 1 / v
    mu_fe, _ = _fixed(y, w)
    q = float(np.sum(w * (y - mu_fe) ** 2))
    if method == "FE" or k == 1:
        return 0.0
    if method == "DL":
        return max(0.0, (q - (k - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    if method == "PM":

        def excess(t: float) -> float:
            wt = 1 / (v + t)
            mu, _ = _fixed(y, wt)
            return float(np.sum(wt * (y - mu) ** 2) - (k - 1))

        if excess(0.0) <= 0:
            return 0.0
        upper = max(1.0, 10 * float(np.var(y, ddof=1)))
        while excess(upper) > 0:
            upper *= 10
        return float(optimize.brentq(excess, 0.0, upper, xtol=1e-14, rtol=1e-14))
    if method in ("REML", "ML"):
        restricted = method == "REML"

        def minus_loglik(t: float) -> float:
            wt = 1 / (v + t)
            mu, _ = _fixed(y, wt)
            ll = -0.5 * np.sum(np.log(v + t)) - 0.5 * np.sum(wt * (y - mu) ** 2)
            if restricted:
                ll -= 0.5 * math.log(np.sum(wt))
            return -float(ll)

        upper = max(1.0, 100 * float(np.var(y, ddof=1)))
        found = optimize.minimize_scalar(minus_loglik, bounds=(0.0, upper), method="bounded",
                                         options={"xatol": 1e-12})  # fmt: skip
        # the bounded search never lands exactly on 0: compare with the boundary itself
        return 0.0 if minus_loglik(0.0) <= found.fun else float(found.x)
    raise DataValidationError(f"unknown τ² method `{method}`", field="method")


def back_transform(measure: str, value: float, n: np.ndarray | None = None) -> float:
    """A value on the model scale on the measure's own: a proportion, a ratio or an RD."""
    if measure == "PLO":
        return float(1 / (1 + math.exp(-value)))
    if measure in ("RR", "OR"):
        return float(math.exp(value))
    if measure == "PFT":
        assert n is not None
        nhm = 1 / np.mean(1 / n)  # harmonic mean of the study sizes (Miller 1978)
        low = 0.5 * (math.asin(0) + math.asin(math.sqrt(1 / (nhm + 1))))
        high = 0.5 * (math.asin(math.sqrt(nhm / (nhm + 1))) + math.asin(1))
        if value <= low:
            return 0.0
        if value >= high:
            return 1.0
        s = math.sin(2 * value)
        inner = float(1 - (s + (s - 1 / s) / nhm) ** 2)
        root = math.sqrt(max(inner, 0.0))
        return float(0.5 * (1 - math.copysign(1, math.cos(2 * value)) * root))
    return float(value)


def rma(
    es: EffectSizes, method: Tau2Method = "REML", *, hk: bool = False, level: float = 0.95,
    labels: Sequence[str] = (),
) -> MetaResult:  # fmt: skip
    """Pool effect sizes: fixed effect (``FE``) or random effects with τ² by REML, ML, DL or
    PM, optionally Hartung–Knapp, as R's metafor ``rma``.

    >>> from pustula.evidence import escalc, rma
    >>> r = rma(escalc("PLO", [6, 13, 0, 21, 8], [6, 21, 10, 34, 12]), "REML")
    >>> round(r.estimate, 4)  # metafor: 0.6160111
    0.616
    """
    y, v = es.yi, es.vi
    k = y.size
    if (v <= 0).any():
        raise DataValidationError("every sampling variance must be positive", field="vi")
    tau2 = _tau2(method, y, v)
    w = 1 / (v + tau2)
    mu, se = _fixed(y, w)
    w0 = 1 / v
    mu_fe, _ = _fixed(y, w0)
    q = float(np.sum(w0 * (y - mu_fe) ** 2))
    q_p = float(stats.chi2.sf(q, k - 1)) if k > 1 else float("nan")
    if method == "FE":
        i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
        h2 = q / (k - 1) if k > 1 else float("nan")
    else:
        typical = (k - 1) * np.sum(w0) / (np.sum(w0) ** 2 - np.sum(w0**2)) if k > 1 else 0.0
        i2 = float(100 * tau2 / (tau2 + typical)) if k > 1 else 0.0
        h2 = float((tau2 + typical) / typical) if k > 1 else float("nan")
    if hk and k > 1:
        se = float(math.sqrt(np.sum(w * (y - mu) ** 2) / ((k - 1) * np.sum(w))))
        crit = float(stats.t.ppf(1 - (1 - level) / 2, k - 1))
    else:
        crit = float(stats.norm.ppf(1 - (1 - level) / 2))
    ci = (mu - crit * se, mu + crit * se)
    spread = math.sqrt(tau2 + se**2)
    pi = ci if method == "FE" else (mu - crit * spread, mu + crit * spread)
    estimate, ci_low, ci_high, pi_low, pi_high = (
        back_transform(es.measure, x, es.n) for x in (mu, *ci, *pi)
    )
    return MetaResult(
        measure=es.measure, method=method, k=k, mu=mu, se=se, ci=ci, pi=pi, tau2=tau2, q=q,
        q_p=q_p, i2=i2, h2=h2, hk=hk and k > 1, estimate=estimate, ci_low=ci_low,
        ci_high=ci_high, pi_low=pi_low, pi_high=pi_high, note=es.note, labels=tuple(labels),
    )  # fmt: skip


def mantel_haenszel(
    measure: Literal["RR", "OR", "RD"], events: Sequence[float], n: Sequence[float],
    events_c: Sequence[float], n_c: Sequence[float], *, level: float = 0.95,
) -> tuple[float, float, tuple[float, float]]:  # fmt: skip
    """Mantel–Haenszel fixed-effect estimate on the model scale (log RR, log OR or RD), its
    standard error (Robins–Breslow–Greenland for OR, Greenland–Robins for RR, Sato–Greenland–
    Robins for RD) and CI;
    no continuity correction is needed unless a whole sum is zero.

    Examples
    --------
    >>> import math
    >>> log_rr, se, ci = mantel_haenszel("RR", [12, 8], [20, 20], [4, 3], [20, 20])
    >>> round(math.exp(log_rr), 3)
    2.857
    """
    a, m = _array(events, "events"), _array(n, "n")
    c, mc = _array(events_c, "events_c"), _array(n_c, "n_c")
    b, d = m - a, mc - c
    total = m + mc
    if measure == "OR":
        r, s = a * d / total, b * c / total
        p, q = (a + d) / total, (b + c) / total
        est = math.log(r.sum() / s.sum())
        var = (np.sum(p * r) / (2 * r.sum() ** 2) + np.sum(p * s + q * r) / (2 * r.sum() * s.sum())
               + np.sum(q * s) / (2 * s.sum() ** 2))  # fmt: skip
    elif measure == "RR":
        r, s = a * mc / total, c * m / total
        est = math.log(r.sum() / s.sum())
        var = np.sum((m * mc * (a + c) - a * c * total) / total**2) / (r.sum() * s.sum())
    else:  # Sato, Greenland & Robins (1989): valid for sparse and for large strata
        weight = m * mc / total
        est = float(np.sum((a * mc - c * m) / total) / weight.sum())
        p = (c * m**2 - a * mc**2 + m * mc * (mc - m) / 2) / total**2
        q = (a * (mc - c) + c * (m - a)) / (2 * total)
        var = (est * p.sum() + q.sum()) / weight.sum() ** 2
    se = math.sqrt(float(var))
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    return float(est), se, (est - z * se, est + z * se)


def leave_one_out(
    es: EffectSizes, method: Tau2Method = "REML", *, hk: bool = False, labels: Sequence[str] = ()
) -> list[tuple[str, MetaResult]]:
    """The pooled result with each study left out in turn.

    Examples
    --------
    >>> es = escalc("PLO", [6, 13, 21], [6, 21, 34])
    >>> [(label, round(r.estimate, 3)) for label, r in leave_one_out(es, labels=["A", "B", "C"])]
    [('A', 0.618), ('B', 0.738), ('C', 0.742)]
    """
    names = list(labels) or [str(i + 1) for i in range(es.yi.size)]
    out = []
    for i, name in enumerate(names):
        keep = np.arange(es.yi.size) != i
        part = EffectSizes(es.measure, es.yi[keep], es.vi[keep], es.n[keep], (), es.correction)
        out.append((name, rma(part, method, hk=hk)))
    return out


@dataclass(frozen=True)
class SubgroupResult:
    groups: dict[str, MetaResult]
    q_between: float
    df: int
    p_value: float


def subgroups(
    es: EffectSizes, groups: Sequence[str], method: Tau2Method = "REML", *, hk: bool = False
) -> SubgroupResult:
    """A model per subgroup and the test of subgroup differences: Q between the subgroup
    estimates, weighted by their standard errors, on (number of groups − 1) df.

    Examples
    --------
    >>> es = escalc("PLO", [6, 13, 21, 9], [6, 21, 34, 30])
    >>> result = subgroups(es, ["JAK", "IL-23", "IL-23", "PDE4"])
    >>> sorted(result.groups)
    ['IL-23', 'JAK', 'PDE4']
    """
    keys = np.asarray(groups, dtype=object)
    fits = {}
    for g in dict.fromkeys(keys):
        keep = keys == g
        part = EffectSizes(es.measure, es.yi[keep], es.vi[keep], es.n[keep], (), es.correction)
        fits[str(g)] = rma(part, method, hk=hk)
    mus = np.array([f.mu for f in fits.values()])
    w = 1 / np.array([f.se for f in fits.values()]) ** 2
    pooled = np.sum(w * mus) / np.sum(w)
    q = float(np.sum(w * (mus - pooled) ** 2))
    df = len(fits) - 1
    return SubgroupResult(fits, q, df, float(stats.chi2.sf(q, df)) if df else float("nan"))


@dataclass(frozen=True)
class EggerTest:
    intercept: float  # the asymmetry: Egger's intercept (metafor regtest's slope on SE)
    se: float
    t: float
    df: int
    p_value: float
    limit_estimate: float  # the effect as the standard error goes to 0
    caveat: str


def egger_test(es: EffectSizes) -> EggerTest:
    """Egger's regression test for funnel-plot asymmetry: the standardised effect y/SE on
    the precision 1/SE, testing the intercept (Egger et al. BMJ 1997;315:629-634). It has
    little power and is refused with fewer than 10 studies (Cochrane Handbook 10.4.3.1)."""
    k = es.yi.size
    if k < 10:
        raise DataValidationError(
            f"Egger's test needs at least 10 studies (got {k}): with fewer it cannot tell "
            "asymmetry from chance"
        )
    sei = np.sqrt(es.vi)
    design = np.column_stack([np.ones(k), 1 / sei])
    coef, *_ = np.linalg.lstsq(design, es.yi / sei, rcond=None)
    resid = es.yi / sei - design @ coef
    sigma2 = float(resid @ resid) / (k - 2)
    cov = sigma2 * np.linalg.inv(design.T @ design)
    se = float(math.sqrt(cov[0, 0]))
    t = float(coef[0] / se)
    return EggerTest(
        float(coef[0]), se, t, k - 2, float(2 * stats.t.sf(abs(t), k - 2)), float(coef[1]),
        "asymmetry can come from small-study effects, heterogeneity or chance, not only "
        "from publication bias",
    )  # fmt: skip


def mantel_haenszel_result(
    measure: Literal["RR", "OR", "RD"], events: Sequence[float], n: Sequence[float],
    events_c: Sequence[float], n_c: Sequence[float], *, level: float = 0.95,
    labels: Sequence[str] = (),
) -> MetaResult:  # fmt: skip
    """The Mantel–Haenszel estimate as a result like the others; a fixed effect has no
    prediction interval beyond its CI.

    Heterogeneity is metafor's ``rma.mh``: Cochran's Q around the *Mantel–Haenszel*
    estimate, ``Q = Σ wᵢ (yᵢ − μ_MH)²`` with wᵢ = 1/vᵢ from the effect sizes (0.5 added to
    the cells of a study with a zero cell; a study without events in either arm is left
    out of Q for every measure, metafor's ``drop00``), ``I² = max(0, (Q − (k −
    1)) / Q)`` and ``H² = Q / (k − 1)`` (metafor's rma.mh.r, ``QE``, ``I2``, ``H2``).
    Centred on the inverse-variance mean instead, Q is the minimum over all centres and
    understates heterogeneity around the estimate actually reported.
    """
    mu, se, ci = mantel_haenszel(measure, events, n, events_c, n_c, level=level)
    es = escalc(measure, events, n, events_c, n_c)
    keep = ~((np.asarray(events, float) == 0) & (np.asarray(events_c, float) == 0))
    y, w = es.yi[keep], 1 / es.vi[keep]
    k = int(keep.sum())
    q = float(np.sum(w * (y - mu) ** 2)) if k > 1 else float("nan")
    q_p = float(stats.chi2.sf(q, k - 1)) if k > 1 else float("nan")
    i2 = max(0.0, 100 * (q - (k - 1)) / q) if k > 1 and q > 0 else 0.0
    h2 = q / (k - 1) if k > 1 else float("nan")
    back = [back_transform(measure, v) for v in (mu, *ci)]
    return MetaResult(
        measure=measure, method="MH", k=es.yi.size, mu=mu, se=se, ci=ci, pi=ci, tau2=0.0,
        q=q, q_p=q_p, i2=i2, h2=h2, hk=False, estimate=back[0],
        ci_low=back[1], ci_high=back[2], pi_low=back[1], pi_high=back[2],
        note="Mantel-Haenszel (no continuity correction needed); Q around the "
        "Mantel-Haenszel estimate, as metafor's rma.mh", labels=tuple(labels),
    )  # fmt: skip
