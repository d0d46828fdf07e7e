"""Interim looks that the protocol's design plans, from the data so far: Simon's stage 1
(responders among the first n1 evaluable subjects against r1) and the Bayesian predictive
probability of success (Lee & Liu 2008) against the protocol's futility threshold.

A subject is *evaluable* for the primary endpoint when it has a value at the endpoint's
visit, or has ended participation without one (a non-responder, as the analysis plan's
non-responder imputation says). A subject still on study without that value is not yet.

References
----------
Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin Trials
1989;10:1-10. doi:10.1016/0197-2456(89)90015-9
Lee JJ, Liu DD. A predictive probability design for phase II cancer clinical trials.
Clin Trials 2008;5:93-106. doi:10.1177/1740774508089279
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from pustula.analysis.datasets import AnalysisData
from pustula.design.bayes import predictive_probability
from pustula.errors import AnalysisError

__all__ = ["BayesianLook", "SimonLook", "bayesian_look", "evaluable_responses", "simon_look"]

Decision = Literal["not yet", "continue", "stop for futility"]


def evaluable_responses(analysis: AnalysisData) -> pd.DataFrame:
    """Each enrolled, dosed subject in order of enrolment: evaluable (bool) and responder
    (1/0, or NaN while not evaluable) for the primary endpoint."""
    protocol = analysis.study.protocol
    primary = next((e for e in protocol.endpoints if e.primary), None)
    if primary is None:
        raise AnalysisError("the protocol has no primary endpoint to look at", field="endpoints")
    crit = analysis.crit(primary.threshold) if primary.threshold is not None else (
        analysis.pga_crit)  # fmt: skip
    paramcd = "PGA" if primary.kind == "pga_0_1" else "PPPASI"
    adqs = analysis.adqs
    rows = adqs[(adqs["VISITCD"] == primary.visit) & (adqs["PARAMCD"] == paramcd)
                & adqs["DTYPE"].isna()]  # fmt: skip
    observed = rows.drop_duplicates("USUBJID").set_index("USUBJID")[f"CRIT{crit}FL"]
    subjects = analysis.study.subjects.set_index("subject")
    adsl = analysis.adsl[analysis.adsl["SAFFL"] == "Y"].copy()
    adsl["ENROLLED"] = adsl["SUBJID"].map(subjects["enrolled_on"])
    adsl = adsl.sort_values(["ENROLLED", "SUBJID"])
    value = adsl["USUBJID"].map(observed)
    ended = adsl["EOSSTT"].isin(["DISCONTINUED", "COMPLETED"])
    evaluable = value.notna() | ended
    responder = value.map({"Y": 1.0, "N": 0.0}).where(value.notna(), 0.0).where(evaluable)
    return pd.DataFrame({"subject": adsl["SUBJID"].to_numpy(), "evaluable": evaluable.to_numpy(),
                         "responder": responder.to_numpy()})  # fmt: skip


@dataclass(frozen=True)
class SimonLook:
    """Stage 1 of a Simon design: the first n1 subjects' responses against r1.

    Examples
    --------
    >>> look = SimonLook(n1=13, r1=3, evaluable=13, responders=4, decision="continue",
    ...                  reason="4 responders of 13: more than 3, so stage 2 opens")
    >>> look.decision
    'continue'
    """

    n1: int
    r1: int
    evaluable: int
    responders: int
    decision: Decision
    reason: str


def simon_look(analysis: AnalysisData) -> SimonLook:
    """Stage 1's decision, as soon as the data settle it: more than r1 responders among
    the first n1 subjects continue to stage 2, r1 or fewer stop for futility."""
    design = analysis.study.protocol.design
    if design is None or design.method != "simon_two_stage":
        raise AnalysisError("the protocol's design is not a Simon two-stage design",
                            field="design")  # fmt: skip
    n1, r1 = int(design.parameters["n1"] or 0), int(design.parameters["r1"] or 0)
    first = evaluable_responses(analysis).head(n1)
    evaluable = int(first["evaluable"].sum())
    responders = int(first["responder"].sum())
    pending = n1 - evaluable
    if responders > r1:
        decision: Decision = "continue"
        reason = (f"{responders} responders among the first {n1} subjects ({evaluable} "
                  f"evaluable): more than {r1}, so stage 2 opens")  # fmt: skip
    elif responders + pending <= r1:
        decision = "stop for futility"
        reason = (f"{responders} responders among the first {n1} subjects ({evaluable} "
                  f"evaluable): at most {r1} whatever the rest show; Simon's rule stops "
                  "the study for futility")  # fmt: skip
    else:
        decision = "not yet"
        reason = (f"{evaluable} of the first {n1} subjects evaluable, {responders} responders;"
                  f" stage 1 is decided at more than {r1} responders or when all {n1} are "
                  "evaluable")  # fmt: skip
    return SimonLook(n1, r1, evaluable, responders, decision, reason)


@dataclass(frozen=True)
class BayesianLook:
    """The predictive probability of success with the data so far.

    Examples
    --------
    >>> look = BayesianLook(x=6, n=10, nmax=40, predictive_probability=0.62,
    ...                     theta_l=0.05, decision="continue", reason="")
    >>> look.decision
    'continue'
    """

    x: int
    n: int
    nmax: int
    predictive_probability: float
    theta_l: float | None
    decision: Decision
    reason: str


def bayesian_look(analysis: AnalysisData) -> BayesianLook:
    """Lee & Liu's predictive probability that the trial succeeds at nmax, from the
    evaluable subjects so far, against the futility threshold theta_l."""
    design = analysis.study.protocol.design
    if design is None or design.method != "bayesian_predictive":
        raise AnalysisError("the protocol's design is not a Bayesian predictive design",
                            field="design")  # fmt: skip
    p = design.parameters
    responses = evaluable_responses(analysis)
    done = responses[responses["evaluable"]]
    x, n, nmax = int(done["responder"].sum()), len(done), int(p["nmax"] or 0)
    prior = float(p["a"] or 0), float(p["b"] or 0)
    result = predictive_probability(*prior, x, min(n, nmax), nmax, float(p["p0"] or 0),
                                    float(p["theta_t"] or 0))  # fmt: skip
    theta_l = None if p.get("theta_l") is None else float(p["theta_l"])  # type: ignore[arg-type]
    pp = result.predictive_probability
    if n == 0:
        decision: Decision = "not yet"
        reason = "no subject is evaluable yet"
    elif theta_l is not None and pp < theta_l:
        decision = "stop for futility"
        reason = (f"predictive probability of success {pp:.3f} with {x} responders of {n}: "
                  f"below the protocol's futility threshold {theta_l}")  # fmt: skip
    else:
        decision = "continue"
        reason = f"predictive probability of success {pp:.3f} with {x} responders of {n}" + (
            f": at or above the futility threshold {theta_l}" if theta_l else ""
        )
    return BayesianLook(x, n, nmax, pp, theta_l, decision, reason)
