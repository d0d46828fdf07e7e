"""A randomized trial's analysis by arm: the protocol's binary endpoints compared between
arms (unstratified and stratified by the randomization strata, and adjusted for baseline),
PPPASI and DLQI change from baseline by ANCOVA and across visits by an MMRM, and the
fixed-sequence (or Holm) testing that says which results are confirmatory.

Everything is computed on one population (ITT by default), with missing responses counted
as non-responses unless the plan says observed cases; the choices travel with the results.
A blinded read has one pooled arm and cannot be compared: that is refused, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import pandas as pd

from pustula.analysis.compare import (
    BinaryComparison,
    Effect,
    StratifiedComparison,
    compare_proportions,
    stratified_comparison,
)
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.endpoints import endpoint_definition
from pustula.analysis.mmrm import MmrmResult, mmrm
from pustula.analysis.models import AncovaResult, ancova, logistic_effect
from pustula.analysis.populations import TRIAL_POPULATIONS, population_definitions
from pustula.analysis.safety import safety_rows
from pustula.analysis.subgroups import subgroup_rows
from pustula.errors import AnalysisError
from pustula.protocol.model import Endpoint
from pustula.protocol.randomization import are_pooled

__all__ = [
    "BinaryEndpointResult",
    "ContinuousResult",
    "TrialAnalysis",
    "analyse_trial",
    "trial_frame",
]

Population = Literal["ITTFL", "MITTFL", "PPROTFL"]
Role = Literal["primary", "key secondary", "secondary"]


@dataclass(frozen=True)
class BinaryEndpointResult:
    """One responder endpoint compared between the arms."""

    endpoint: str
    label: str
    visit: str
    definition: str
    role: Role
    comparison: BinaryComparison
    stratified: StratifiedComparison | None
    #: the odds ratio adjusted for baseline PPPASI (None when the data separate it)
    adjusted: Effect | None
    adjusted_note: str = ""
    #: the p that the testing procedure uses: CMH over the strata, or Fisher without strata
    test_p: float = 1.0
    test: str = ""
    confirmatory: bool = False


@dataclass(frozen=True)
class ContinuousResult:
    """A change from baseline at one visit by ANCOVA (baseline and strata as covariates)."""

    parameter: str
    measure: Literal["change", "percent change"]
    visit: str
    result: AncovaResult | None
    note: str = ""


@dataclass(frozen=True)
class TrialAnalysis:
    """The trial compared by arm, in one population, with the choices that made it.

    Examples
    --------
    >>> from pustula.analysis import build_analysis
    >>> from pustula.store.transfer.extract import read_study
    >>> trial = analyse_trial(build_analysis(read_study(unblinded_trial_store(), arms=True)))
    >>> primary = trial.binary[0]
    >>> primary.endpoint, primary.role, trial.population
    ('PPPASI50_W16', 'primary', 'Intention to treat')
    """

    treated: tuple[str, str]  # (code, label)
    control: tuple[str, str]
    population: str
    population_flag: str
    population_definition: str
    missing_rule: str
    multiplicity: str
    counts: pd.DataFrame  # population x arm: subjects
    binary: tuple[BinaryEndpointResult, ...]
    continuous: tuple[ContinuousResult, ...]
    mmrm: dict[str, MmrmResult | str] = field(default_factory=dict)
    strata: tuple[str, ...] = ()
    #: safety by arm as treated (the safety set): ARD rows, ``group`` the arm's label
    safety: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the primary endpoint within each stratum level and subgroup (exploratory)
    subgroups: pd.DataFrame = field(default_factory=pd.DataFrame)


def _arms(analysis: AnalysisData, treated: str | None, control: str | None
          ) -> tuple[tuple[str, str], tuple[str, str]]:  # fmt: skip
    protocol = analysis.study.protocol
    labels = {a.code: a.label for a in protocol.arms}
    if not protocol.randomized:
        raise AnalysisError("this study is not randomized: there are no arms to compare",
                            field="arm")  # fmt: skip
    if are_pooled(protocol.arms):
        raise AnalysisError(
            "this trial is blinded and these data are its blinded read (arms pooled): the "
            "comparison between arms is for the unblinded statistician and the DMC",
            field="arm",
        )
    codes = list(labels)
    treated = treated or codes[0]
    control = control or codes[-1]
    for code in (treated, control):
        if code not in labels:
            raise AnalysisError(f"arm {code} is not in the protocol (arms: {', '.join(codes)})",
                                field="arm")  # fmt: skip
    if treated == control:
        raise AnalysisError("compare two different arms", field="arm")
    return (treated, labels[treated]), (control, labels[control])


def trial_frame(analysis: AnalysisData, population: Population = "ITTFL") -> pd.DataFrame:
    """One row per subject of ``population``: arm, strata as randomized, baseline PPPASI."""
    adsl = analysis.adsl
    subjects = adsl[adsl[population] == "Y"][["USUBJID", "SUBJID", "ARMCD"]].copy()
    allocation = analysis.study.allocation
    strata = allocation.set_index("subject")["strata"] if len(allocation) else pd.Series()
    randomization = analysis.study.protocol.randomization
    factors = [s.factor for s in randomization.strata] if randomization else []
    for factor in factors:
        subjects[f"STRAT_{factor}"] = subjects["SUBJID"].map(
            lambda code, f=factor: strata[code].get(f) if code in strata.index else None
        )
    subjects["STRATUM"] = subjects[[f"STRAT_{f}" for f in factors]].astype(str).agg(
        " · ".join, axis=1) if factors else "-"  # fmt: skip
    pppasi = analysis.adqs[(analysis.adqs["PARAMCD"] == "PPPASI")]
    base = pppasi.drop_duplicates("USUBJID").set_index("USUBJID")["BASE"]
    subjects["BASE_PPPASI"] = subjects["USUBJID"].map(base)
    return subjects.reset_index(drop=True)


def _responses(analysis: AnalysisData, frame: pd.DataFrame, endpoint: Endpoint,
               nri: bool) -> pd.Series:  # fmt: skip
    """1/0 per subject of ``frame`` (NaN where missing and not imputed)."""
    crit = analysis.crit(endpoint.threshold) if endpoint.threshold is not None else (
        analysis.pga_crit)  # fmt: skip
    paramcd = "PGA" if endpoint.kind == "pga_0_1" else "PPPASI"
    adqs = analysis.adqs
    rows = adqs[(adqs["VISITCD"] == endpoint.visit) & (adqs["PARAMCD"] == paramcd)]
    flags = rows.drop_duplicates("USUBJID").set_index("USUBJID")[f"CRIT{crit}FL"]
    values = frame["USUBJID"].map(flags.map({"Y": 1.0, "N": 0.0}))
    return values.fillna(0.0) if nri else values


def _role(endpoint: Endpoint, key: Sequence[str]) -> Role:
    if endpoint.primary:
        return "primary"
    return "key secondary" if endpoint.id in key else "secondary"


def _binary(analysis: AnalysisData, frame: pd.DataFrame, endpoint: Endpoint, treated: str,
            control: str, nri: bool, role: Role) -> BinaryEndpointResult:  # fmt: skip
    alpha = analysis.settings.alpha
    data = frame.assign(RESP=_responses(analysis, frame, endpoint, nri)).dropna(subset=["RESP"])
    arm = data["ARMCD"]
    t, c = data[arm == treated], data[arm == control]
    comparison = compare_proportions(int(t["RESP"].sum()), len(t), int(c["RESP"].sum()), len(c),
                                     alpha=alpha)  # fmt: skip
    stratified = None
    if len(data) and (data["STRATUM"] != "-").any():
        tables = []
        for _, rows in data.groupby("STRATUM"):
            rt, rc = rows[rows["ARMCD"] == treated], rows[rows["ARMCD"] == control]
            tables.append((int(rt["RESP"].sum()), len(rt), int(rc["RESP"].sum()), len(rc)))
        stratified = stratified_comparison(tables, alpha=alpha)
    adjusted, note = None, ""
    model = data.assign(TREATED=(arm == treated).astype(int))
    model = model[model["ARMCD"].isin([treated, control])]
    try:
        adjusted = logistic_effect(model, "RESP", arm="TREATED", covariates=["BASE_PPPASI"],
                                   alpha=alpha)  # fmt: skip
    except AnalysisError:
        note = ("no baseline-adjusted odds ratio: the responses are separated (an arm "
                "without responders or without non-responders); the exact and stratified "
                "tests stand")  # fmt: skip
    test_p, test = (
        (stratified.cmh_p, "Cochran–Mantel–Haenszel over the randomization strata")
        if stratified is not None
        else (comparison.fisher_p, "Fisher's exact test")
    )
    return BinaryEndpointResult(
        endpoint.id, endpoint.label, endpoint.visit,
        endpoint_definition(endpoint, analysis.settings), role, comparison, stratified,
        adjusted, note, test_p, test,
    )  # fmt: skip


def _confirm(results: list[BinaryEndpointResult], procedure: str, alpha: float
             ) -> list[BinaryEndpointResult]:  # fmt: skip
    """Mark which results are confirmatory: the primary at alpha; then the key secondary
    ones, in order at alpha until one fails (fixed sequence) or by Holm as a family."""
    primary = [r for r in results if r.role == "primary"]
    key = [r for r in results if r.role == "key secondary"]
    passed = bool(primary) and all(r.test_p < alpha for r in primary)
    confirmed = {r.endpoint for r in primary if r.test_p < alpha}
    if passed and procedure == "fixed_sequence":
        for r in key:
            if r.test_p >= alpha:
                break
            confirmed.add(r.endpoint)
    elif passed:  # Holm over the key secondary family
        for step, r in enumerate(sorted(key, key=lambda r: r.test_p)):
            if r.test_p >= alpha / (len(key) - step):
                break
            confirmed.add(r.endpoint)
    return [replace(r, confirmatory=r.endpoint in confirmed) for r in results]


def _continuous(
    analysis: AnalysisData, frame: pd.DataFrame, treated: str, control: str,
    factors: Sequence[str],
) -> tuple[list[ContinuousResult], dict[str, MmrmResult | str]]:  # fmt: skip
    protocol = analysis.study.protocol
    primary = next((e for e in protocol.endpoints if e.primary), protocol.endpoints[0])
    adqs = analysis.adqs[analysis.adqs["USUBJID"].isin(frame["USUBJID"])]
    observed = adqs[adqs["DTYPE"].isna() & adqs["ABLFL"].ne("Y")]
    observed = observed.merge(frame, on="USUBJID", how="inner", suffixes=("", "_S"))
    observed = observed[observed["ARMCD"].isin([treated, control])]
    observed["TREATED"] = (observed["ARMCD"] == treated).astype(int)
    strata = [f"STRAT_{f}" for f in factors]
    results: list[ContinuousResult] = []
    fits: dict[str, MmrmResult | str] = {}
    for paramcd in ("PPPASI", "DLQI"):
        rows = observed[observed["PARAMCD"] == paramcd]
        if rows.empty:
            fits[paramcd] = f"no {paramcd} was recorded after baseline"
            continue
        at_visit = rows[rows["VISITCD"] == primary.visit]
        measures: tuple[tuple[Literal["change", "percent change"], str], ...] = (
            ("change", "CHG"), ("percent change", "PCHG"))  # fmt: skip
        for measure, column in measures:
            if paramcd == "DLQI" and measure == "percent change":
                continue  # a DLQI of 0 at baseline has no percentage: change only
            try:
                fit = ancova(at_visit, column, arm="TREATED", covariates=["BASE"],
                             factors=strata, alpha=analysis.settings.alpha)  # fmt: skip
                results.append(ContinuousResult(paramcd, measure, primary.visit, fit))
            except AnalysisError as error:
                results.append(ContinuousResult(paramcd, measure, primary.visit, None,
                                                str(error)))  # fmt: skip
        visits = [v.code for v in protocol.visits if not v.baseline and v.code in set(
            rows["VISITCD"])]  # fmt: skip
        try:
            fits[paramcd] = mmrm(rows, "CHG", subject="USUBJID", visit="VISITCD", arm="ARMCD",
                                 baseline="BASE", treated=treated, control=control,
                                 factors=strata, visits=visits,
                                 alpha=analysis.settings.alpha)  # fmt: skip
        except AnalysisError as error:
            fits[paramcd] = str(error)
    return results, fits


def analyse_trial(
    analysis: AnalysisData,
    *,
    population: Population = "ITTFL",
    treated: str | None = None,
    control: str | None = None,
) -> TrialAnalysis:
    """The trial's comparison of ``treated`` (the protocol's first arm) with ``control``
    (its last) in ``population`` (ITT, modified ITT or per protocol).

    >>> from pustula.analysis import build_analysis
    >>> from pustula.store.transfer.extract import read_study
    >>> data = build_analysis(read_study(unblinded_trial_store(), arms=True))
    >>> pp = analyse_trial(data, population="PPROTFL")
    >>> pp.population, [b.endpoint for b in pp.binary if b.confirmatory][:2]
    ('Per protocol', ['PPPASI50_W16', 'PPPASI75_W16'])
    """
    treated_arm, control_arm = _arms(analysis, treated, control)
    protocol = analysis.study.protocol
    plan = protocol.analysis
    frame = trial_frame(analysis, population)
    nri = analysis.settings.imputation != "OC"
    randomization = protocol.randomization
    factors = [s.factor for s in randomization.strata] if randomization else []
    binary = [
        _binary(analysis, frame, e, treated_arm[0], control_arm[0], nri,
                _role(e, plan.key_secondary))
        for e in protocol.endpoints
    ]  # fmt: skip
    order = {"primary": 0, "key secondary": 1, "secondary": 2}
    key_rank = {k: i for i, k in enumerate(plan.key_secondary)}
    binary.sort(key=lambda r: (order[r.role], key_rank.get(r.endpoint, 0)))
    binary = _confirm(binary, plan.multiplicity, analysis.settings.alpha)
    continuous, fits = _continuous(analysis, frame, treated_arm[0], control_arm[0], factors)
    adsl = analysis.adsl
    counts = pd.DataFrame(
        {
            label: [int(((adsl[flag] == "Y") & (adsl["ARMCD"] == arm[0])).sum())
                    for arm in (treated_arm, control_arm)]
            for flag, label in TRIAL_POPULATIONS.items()
        },
        index=[treated_arm[1], control_arm[1]],
    ).T  # fmt: skip
    missing = (
        "missing responses counted as non-responses (non-responder imputation)"
        if nri
        else "observed cases: subjects without a value at the visit are left out"
    )
    return TrialAnalysis(
        treated=treated_arm,
        control=control_arm,
        population=TRIAL_POPULATIONS[population],
        population_flag=population,
        population_definition=population_definitions(protocol)[population],
        missing_rule=missing,
        multiplicity="fixed sequence" if plan.multiplicity == "fixed_sequence" else "Holm",
        counts=counts,
        binary=tuple(binary),
        continuous=tuple(continuous),
        mmrm=fits,
        strata=tuple(factors),
        safety=_safety_by_arm(analysis, (treated_arm, control_arm)),
        subgroups=_subgroups(analysis, frame, treated_arm[0], control_arm[0], nri, factors),
    )


_SUBGROUP_NAMES = {"site": "Site", "sex": "Sex", "smoking": "Smoking (as randomized)",
                   "pppasi_band": "Baseline PPPASI (as randomized)"}  # fmt: skip


def _subgroups(analysis: AnalysisData, frame: pd.DataFrame, treated: str, control: str,
               nri: bool, factors: Sequence[str]) -> pd.DataFrame:  # fmt: skip
    """The primary endpoint in each level of each stratification factor and of sex."""
    protocol = analysis.study.protocol
    primary = next((e for e in protocol.endpoints if e.primary), protocol.endpoints[0])
    sex = analysis.adsl.set_index("USUBJID")["SEX"].map({"F": "female", "M": "male"})
    data = frame.assign(RESP=_responses(analysis, frame, primary, nri),
                        TREATED=(frame["ARMCD"] == treated).astype(int),
                        SEX=frame["USUBJID"].map(sex))  # fmt: skip
    data = data[data["ARMCD"].isin([treated, control])].dropna(subset=["RESP"])
    columns = [("ALL", "All subjects"), *((f"STRAT_{f}", _SUBGROUP_NAMES[f]) for f in factors)]
    if "sex" not in factors:
        columns.append(("SEX", "Sex"))
    return subgroup_rows(data.assign(ALL="all"), "RESP", arm="TREATED", subgroups=columns,
                         alpha=analysis.settings.alpha)  # fmt: skip


def _safety_by_arm(analysis: AnalysisData, arms: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Treatment-emergent AEs and lab shifts per arm as treated: no record says a subject
    took another arm's kit, so the arm treated is the arm randomized to."""
    labels = dict(arms)
    adsl = analysis.adsl[analysis.adsl["SAFFL"] == "Y"]
    by = {s: labels[a] for s, a in zip(adsl["SUBJID"], adsl["ARMCD"], strict=True) if a in labels}
    return pd.DataFrame(list(safety_rows(analysis, by=by)))
