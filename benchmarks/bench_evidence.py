"""Design and meta-analysis speed, each as a ratio to a reference timed in the same run
(machines here drift up to 3x from minute to minute, so absolute seconds say little):

- the GLMM (binomial-normal, 50 studies) and the REML random-effects model (dat.bcg)
  against R's metafor on the same data (``rma.glmm``, ``rma``; target: ratio <= 1). R's
  time is measured inside R (``system.time``), without R's start-up or package loading;
- a Simon search up to n = 100 against a plain Python loop of 10 million additions in the
  same run (a yardstick for the machine's speed at that moment, not a competitor).

Each is run several times; the median is compared. Without ``Rscript`` and metafor the R
comparisons are skipped and said to be.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from pustula.design import simon_designs
from pustula.evidence import escalc, glmm_proportions, rma

TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median time of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def r_seconds(code: str, repeat: int) -> float | None:
    """Median seconds of ``code`` in R, timed inside R after one warm-up run."""
    if shutil.which("Rscript") is None:
        return None
    script = (
        "suppressMessages(library(metafor)); f <- function() { " + code + " }; invisible(f()); "
        f"t <- sapply(1:{repeat}, function(i) system.time(f())[['elapsed']]); cat(median(t))"
    )
    run = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, timeout=600)
    return float(run.stdout) if run.returncode == 0 and run.stdout.strip() else None


def _vector(values: Any) -> str:
    return "c(" + ",".join(str(int(v)) for v in values) + ")"


def loop_seconds() -> float:
    def plain() -> int:
        total = 0
        for i in range(10_000_000):
            total += i
        return total

    return timed(plain, 3)[0]


def main() -> None:
    loop = loop_seconds()
    print(f"plain loop (10 million additions): {loop:.3f} s")
    for p0, p1 in ((0.05, 0.25), (0.2, 0.4), (0.3, 0.5)):
        seconds, r = timed(lambda p0=p0, p1=p1: simon_designs(p0, p1, nmax=100), 3)
        o = r.optimal
        design = f"optimal {o.r1}/{o.n1}, {o.r}/{o.n}"
        print(f"Simon p0={p0} p1={p1}, n <= 100: median {seconds:.2f} s = "
              f"{seconds / loop:.2f}x the plain loop ({design})")  # fmt: skip
    rng = np.random.default_rng(20261129)
    n = rng.integers(10, 200, 50)
    p = 1 / (1 + np.exp(-rng.normal(0.3, 0.8, 50)))
    x = rng.binomial(n, p)
    ours, fit = timed(lambda: glmm_proportions(x.tolist(), n.tolist()), 7)
    theirs = r_seconds(f'rma.glmm(measure="PLO", xi={_vector(x)}, ni={_vector(n)}, '
                       'method="ML")', 7)  # fmt: skip
    _compare("GLMM, 50 studies", ours, theirs, f"tau2 {fit.tau2:.4f}")
    bcg = escalc("RR", TPOS, [a + b for a, b in zip(TPOS, TNEG, strict=True)],
                 CPOS, [a + b for a, b in zip(CPOS, CNEG, strict=True)])  # fmt: skip
    ours, fit = timed(lambda: rma(bcg, "REML"), 50)
    theirs = r_seconds('dat <- escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, '
                       'data=dat.bcg); rma(yi, vi, data=dat, method="REML")', 50)  # fmt: skip
    _compare("REML random effects, dat.bcg (with escalc in R)", ours, theirs,
             f"tau2 {fit.tau2:.4f}")  # fmt: skip


def _compare(what: str, ours: float, theirs: float | None, detail: str) -> None:
    if theirs is None:
        print(f"{what}: {ours * 1000:.1f} ms ({detail}); metafor not available: no ratio")
        return
    print(f"{what}: {ours * 1000:.1f} ms, metafor {theirs * 1000:.1f} ms: ratio "
          f"{ours / theirs:.2f} (target <= 1; {detail})")  # fmt: skip


if __name__ == "__main__":
    main()
