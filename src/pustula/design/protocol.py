"""A design becomes a runnable protocol: ``pustula design … --protocol trial.yaml``.

The written protocol takes its arms, sample size, randomization and analysis plan from the
design, and everything else (visits, eligibility, lab rules) from the shipped randomized
trial protocol, to be edited before the study starts. ``pustula study add`` accepts it as
it is; :func:`design_protocol` checks that by loading what it writes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from importlib import resources
from typing import Any

import yaml

from pustula.design.simon import SimonDesign
from pustula.design.two_arm import TwoArmSize
from pustula.protocol import parse_protocol

__all__ = ["bayesian_protocol", "simon_protocol", "two_arm_protocol"]

#: The shipped randomized trial protocol: the visits, criteria and lab rules a written
#: protocol starts from.
BASE = "tofacitinib-ppp-rct.yaml"


def _base() -> dict[str, Any]:
    text = resources.files("pustula").joinpath("protocols", BASE).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _final_visit(base: Mapping[str, Any]) -> str:
    return str(base["visits"][-1]["code"])


def _endpoints(base: Mapping[str, Any], threshold: int) -> list[dict[str, Any]]:
    last = _final_visit(base)
    week = last.removeprefix("W")
    return [
        {"id": f"PPPASI{threshold}_{last}", "label": f"PPPASI{threshold} at week {week}",
         "instrument": "pppasi", "visit": last, "kind": "pppasi_reduction",
         "threshold": threshold, "primary": True},
        {"id": f"PPPASI75_{last}", "label": f"PPPASI75 at week {week}", "instrument": "pppasi",
         "visit": last, "kind": "pppasi_reduction", "threshold": 75},
        {"id": f"PGA01_{last}", "label": f"PPP PGA clear or almost clear at week {week}",
         "instrument": "pga", "visit": last, "kind": "pga_0_1"},
    ]  # fmt: skip


def _analysis(base: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """The base protocol's analysis plan with ``changes``; the key secondary endpoints are
    the written protocol's own (PPPASI75, then PGA 0/1, at the last visit)."""
    last = _final_visit(base)
    return {**base["analysis"], "key_secondary": [f"PPPASI75_{last}", f"PGA01_{last}"],
            **changes}  # fmt: skip


def _written(data: dict[str, Any], how: str) -> str:
    header = (
        f"# Written by `pustula design {how}` on {date.today().isoformat()}.\n"
        "# Arms, sample size, randomization and analysis plan come from the design; the\n"
        "# visits, criteria and lab rules are the shipped trial's: edit them before use.\n"
    )
    text = header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    parse_protocol(yaml.safe_load(text), source="the written protocol")  # what study add reads
    return text


def two_arm_protocol(
    size: TwoArmSize, *, p1: float, p2: float, alpha: float, power: float,
    study_id: str = "PPP-RCT", title: str | None = None, dropout: float = 0.1,
) -> str:  # fmt: skip
    """A randomized 1:1, double-blind protocol sized by the two-arm design, the sample
    inflated for ``dropout`` (missing responses count as non-responses, as the analysis
    plan says).

    Examples
    --------
    >>> from pustula.design.two_arm import two_arm_size
    >>> text = two_arm_protocol(two_arm_size(0.6, 0.25), p1=0.6, p2=0.25, alpha=0.05,
    ...                         power=0.8)
    >>> protocol = parse_protocol(yaml.safe_load(text))
    >>> protocol.design.parameters["n_per_arm"], protocol.design.planned_subjects  # 36 / 0.9
    (36, 80)
    >>> protocol.randomization.block_sizes
    (2, 4)
    """
    base = _base()
    per_arm = math.ceil(size.n_per_arm / (1 - dropout))
    arms = [dict(arm, ratio=1) for arm in base["arms"]]
    data = {
        "id": study_id,
        "title": title or "Randomized, double-blind, placebo-controlled trial in palmoplantar "
        "pustulosis",
        "version": "0.1",
        "description": (
            f"Randomized 1:1 and double-blind, {per_arm} subjects per arm: PPPASI50 response "
            f"{p1:.0%} against {p2:.0%}, two-sided alpha {alpha}, power {power:.0%} "
            f"({size.n_per_arm} per arm with Fleiss' continuity correction, inflated for "
            f"{dropout:.0%} dropout)."
        ),
        "country": base.get("country"),
        "arms": arms,
        "randomization": {**base["randomization"], "block_sizes": [2, 4],
                          "slots_per_stratum": 2 * per_arm},
        "visits": base["visits"],
        "eligibility": base["eligibility"],
        "refractory": base["refractory"],
        "analysis": _analysis(base, alpha=alpha, imputation="NRI"),
        "endpoints": _endpoints(base, 50),
        "lab_rules": base["lab_rules"],
        "design": {
            "method": "two_arm", "planned_subjects": 2 * per_arm,
            "parameters": {"p1": p1, "p2": p2, "alpha": alpha, "power": power,
                           "dropout": dropout, "n_per_arm": size.n_per_arm,
                           "power_fisher": round(size.power_fisher, 4)},
            "reference": "Fleiss, Levin & Paik 2003 (continuity-corrected normal "
                         "approximation); exact power of Fisher's test",
        },
    }  # fmt: skip
    return _written(data, "two-arm")


def _single_arm(base: dict[str, Any], study_id: str, title: str, description: str,
                design: dict[str, Any], threshold: int) -> dict[str, Any]:  # fmt: skip
    return {
        "id": study_id, "title": title, "version": "0.1", "description": description,
        "country": base.get("country"), "arms": [dict(base["arms"][0], ratio=1)],
        "visits": base["visits"], "eligibility": base["eligibility"],
        "refractory": base["refractory"],
        "analysis": _analysis(base, imputation="NRI"),
        "endpoints": _endpoints(base, threshold), "lab_rules": base["lab_rules"],
        "design": design,
    }  # fmt: skip


def simon_protocol(
    design: SimonDesign, *, p0: float, p1: float, alpha: float, power: float,
    study_id: str = "PPP-PHASE2", which: str = "optimal",
) -> str:  # fmt: skip
    """A single-arm, open-label phase II protocol run by a Simon two-stage design.

    Examples
    --------
    >>> from pustula.design import simon_designs
    >>> d = simon_designs(0.2, 0.4, nmax=60).optimal
    >>> p = parse_protocol(yaml.safe_load(simon_protocol(d, p0=0.2, p1=0.4, alpha=0.05,
    ...                                                  power=0.8)))
    >>> p.randomization is None, p.design.planned_subjects, p.design.parameters["n1"]
    (True, 43, 13)
    """
    base = _base()
    description = (
        f"Single-arm, open-label phase II, Simon's {which} two-stage design: stop after "
        f"{design.n1} subjects if {design.r1} or fewer respond; the treatment is promising "
        f"if more than {design.r} of {design.n} respond (PPPASI50 response {p0:.0%} "
        f"uninteresting, {p1:.0%} worth pursuing; alpha {alpha}, power {power:.0%})."
    )
    record = {
        "method": "simon_two_stage", "planned_subjects": design.n,
        "parameters": {"p0": p0, "p1": p1, "alpha": alpha, "power": power, "r1": design.r1,
                       "n1": design.n1, "r": design.r, "n": design.n,
                       "actual_alpha": round(design.alpha, 4),
                       "actual_power": round(design.power, 4)},
        "reference": f"Simon 1989, {which} design",
    }  # fmt: skip
    data = _single_arm(base, study_id, "Single-arm phase II trial in palmoplantar pustulosis",
                       description, record, 50)  # fmt: skip
    return _written(data, "simon")


def bayesian_protocol(
    *, a: float, b: float, nmax: int, p0: float, theta_t: float, theta_l: float | None,
    study_id: str = "PPP-BAYES",
) -> str:  # fmt: skip
    """A single-arm protocol monitored by the predictive probability of success.

    Examples
    --------
    >>> p = parse_protocol(yaml.safe_load(bayesian_protocol(a=0.5, b=0.5, nmax=40, p0=0.2,
    ...                                                     theta_t=0.95, theta_l=0.05)))
    >>> p.design.method, p.design.planned_subjects
    ('bayesian_predictive', 40)
    """
    base = _base()
    description = (
        f"Single-arm, open-label, at most {nmax} subjects, monitored by the predictive "
        f"probability of success (Lee & Liu 2008): success if P(rate > {p0:.0%}) > "
        f"{theta_t} at the end; stop for futility when the predictive probability falls "
        f"below {theta_l} (Beta({a:g}, {b:g}) prior)."
    )
    record = {
        "method": "bayesian_predictive", "planned_subjects": nmax,
        "parameters": {"a": a, "b": b, "nmax": nmax, "p0": p0, "theta_t": theta_t,
                       "theta_l": theta_l},
        "reference": "Lee & Liu 2008",
    }  # fmt: skip
    data = _single_arm(base, study_id, "Single-arm trial in palmoplantar pustulosis, "
                       "Bayesian monitoring", description, record, 50)  # fmt: skip
    return _written(data, "predictive")
