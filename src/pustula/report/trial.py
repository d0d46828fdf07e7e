"""The unblinded part of a randomized trial's report: the CONSORT flow by arm, the tables
by arm (populations, baseline, endpoints with their effects, ANCOVA, MMRM, safety,
subgroups), the figures, the trial's methods and the CONSORT 2010 checklist.

Computed first (:func:`trial_report`), formatted here into tables of text, rendered by
the report's template and the Word writer. A blinded read never gets here: its report
pools the arms.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from pustula.analysis.ci import ProportionEstimate
from pustula.analysis.compare import Effect
from pustula.analysis.datasets import AnalysisData
from pustula.analysis.mmrm import MmrmResult
from pustula.analysis.plots import Figure_
from pustula.analysis.tables import Rounding, fmt_number
from pustula.analysis.trial import TrialAnalysis, analyse_trial
from pustula.analysis.trial_plots import (
    ArmFlow,
    TrialFlow,
    consort_by_arm,
    forest_plot,
    mean_change_by_arm,
)
from pustula.protocol.status import SubjectStatus

__all__ = ["TrialReport", "consort_checklist", "trial_flow", "trial_report"]


@dataclass(frozen=True)
class TrialReport:
    """What the trial's part of the report shows, computed."""

    analysis: TrialAnalysis
    flow: TrialFlow
    tables: dict[str, pd.DataFrame]
    figures: list[Figure_] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    checklist: list[tuple[str, str, str]] = field(default_factory=list)


def _counted(values: pd.Series) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(Counter(str(v) for v in values).items(), key=lambda kv: -kv[1]))


def trial_flow(analysis: AnalysisData, trial: TrialAnalysis) -> TrialFlow:
    """The CONSORT 2010 flow, from ADSL and the subjects' statuses."""
    s = analysis.study.subjects
    adsl = analysis.adsl.set_index("SUBJID")
    randomized = adsl[adsl["RANDFL"] == "Y"]
    not_randomized = s[~s["subject"].isin(randomized.index)]
    failed = analysis.study.failed_criteria
    first_failed = (
        failed.drop_duplicates("subject").set_index("subject").apply(
            lambda r: ("not met: " if r["kind"] == "inclusion" else "excluded: ") + r["text"],
            axis=1)
        if len(failed) else pd.Series(dtype=object)
    )  # fmt: skip
    reasons = not_randomized["subject"].map(first_failed)
    status = not_randomized["status"].map({
        SubjectStatus.SCREEN_FAILURE: "did not meet the eligibility criteria",
        SubjectStatus.SCREENING_PENDING: "still in screening",
    }).fillna("enrolled, not randomized")  # fmt: skip
    failure = not_randomized["status"] == SubjectStatus.SCREEN_FAILURE
    reasons = reasons.where(reasons.notna() & failure, status)
    flag = trial.population_flag
    arms = []
    for code, label in (trial.treated, trial.control):
        rows = randomized[randomized["ARMCD"] == code]
        undosed = rows[rows["SAFFL"] != "Y"]
        stopped = rows[(rows["WDFL"] == "Y") & (rows["SAFFL"] == "Y")]
        analysed = rows[rows[flag] == "Y"]
        reason_column = {"MITTFL": "MITTRSN", "PPROTFL": "PPROTRSN"}.get(flag)
        left_out = rows[rows[flag] != "Y"]
        reasons_stopped = stopped["DCSREAS"].fillna("reason not recorded")
        lost = reasons_stopped.str.contains("lost to follow", case=False)
        arms.append(ArmFlow(
            label=label, allocated=len(rows), received=len(rows) - len(undosed),
            not_received=_counted(undosed["DCSREAS"].fillna("no dose recorded")),
            discontinued=_counted(reasons_stopped[~lost]), lost=int(lost.sum()),
            analysed=len(analysed),
            excluded_from_analysis=_counted(left_out[reason_column]) if reason_column else (),
        ))  # fmt: skip
    return TrialFlow(len(s), _counted(reasons), len(randomized), tuple(arms))


def _effect(e: Effect | None, rounding: Rounding, *, points: bool = False, digits: int = 2) -> str:
    """``estimate (low to high)``: a difference of rates in percentage points with one
    decimal, a ratio with ``digits``."""
    if e is None or e.estimate is None:
        return "NE"
    scale = 100 if points else 1
    digits = 1 if points else digits

    def f(v: float) -> str:
        if v == float("inf"):
            return "∞"
        return fmt_number(scale * v, digits, rounding=rounding)

    return f"{f(e.estimate)} ({f(e.low)} to {f(e.high)})"


def _p(p: float | None) -> str:
    if p is None:
        return "NE"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _rate_ci(estimate: ProportionEstimate, rounding: Rounding) -> str:
    """``x/n (rate%; low–high)``: a rate with its exact interval."""

    def f(v: float) -> str:
        return fmt_number(100 * v, 1, rounding=rounding)

    return (f"{estimate.x}/{estimate.n} ({f(estimate.estimate)}%; "
            f"{f(estimate.low)}–{f(estimate.high)})")  # fmt: skip


def _rate(x: int, n: int, rounding: Rounding) -> str:
    return f"{x}/{n} ({fmt_number(100 * x / n if n else None, 1, rounding=rounding)}%)"


def _binary_table(trial: TrialAnalysis, rounding: Rounding) -> pd.DataFrame:
    """Each endpoint's rates by arm, the difference and the p the testing order uses."""
    rows = []
    for b in trial.binary:
        c = b.comparison
        test = "CMH" if b.stratified is not None else "Fisher"
        rows.append({
            "Endpoint": b.label, "Role": b.role + (", confirmatory" if b.confirmatory else ""),
            f"{trial.treated[1]}, n/N (%; 95% CI)": _rate_ci(c.treated, rounding),
            f"{trial.control[1]}, n/N (%; 95% CI)": _rate_ci(c.control, rounding),
            "Difference, points (95% CI)": _effect(c.risk_difference, rounding, points=True),
            "p": f"{_p(b.test_p)} ({test})",
        })  # fmt: skip
    return pd.DataFrame(rows)


def _relative_table(trial: TrialAnalysis, rounding: Rounding) -> pd.DataFrame:
    """The same endpoints as relative effects, with the other intervals and tests."""
    rows = []
    for b in trial.binary:
        c = b.comparison
        rows.append({
            "Endpoint": b.label,
            "Difference, points (Newcombe 95% CI)": _effect(c.risk_difference_newcombe,
                                                            rounding, points=True),
            "Relative risk (95% CI)": _effect(c.relative_risk, rounding),
            "Odds ratio (95% CI)": _effect(c.odds_ratio, rounding),
            "Odds ratio adjusted for baseline PPPASI (95% CI)": _effect(b.adjusted, rounding)
            if b.adjusted is not None else "not estimable (separated responses)",
            "Fisher p": _p(c.fisher_p),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _stratified_table(trial: TrialAnalysis, rounding: Rounding) -> pd.DataFrame:
    rows = [
        {"Endpoint": b.label,
         "Common difference, points (95% CI, Mantel–Haenszel)":
             _effect(b.stratified.risk_difference, rounding, points=True),
         "Common odds ratio (95% CI, Mantel–Haenszel)":
             _effect(b.stratified.common_odds_ratio, rounding),
         "CMH p": _p(b.stratified.cmh_p),
         "Strata with both arms": f"{b.stratified.strata_used} of {b.stratified.strata_total}"}
        for b in trial.binary if b.stratified is not None
    ]  # fmt: skip
    return pd.DataFrame(rows)


def _ancova_table(trial: TrialAnalysis, rounding: Rounding, visits: dict[str, str]) -> pd.DataFrame:
    rows = []
    for c in trial.continuous:
        r = c.result
        unit = " (%)" if c.measure == "percent change" else ""
        rows.append({
            "Outcome": f"{c.parameter} {c.measure}{unit}, {visits.get(c.visit, c.visit)}",
            trial.treated[1]: "NE" if r is None else fmt_number(r.ls_means[1], rounding=rounding),
            trial.control[1]: "NE" if r is None else fmt_number(r.ls_means[0], rounding=rounding),
            "Difference (95% CI)": c.note if r is None else _effect(r.difference, rounding,
                                                                    digits=1),
            "p": "NE" if r is None else _p(r.difference.p_value),
            "Subjects": "" if r is None else str(r.n),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _mmrm_table(trial: TrialAnalysis, fit: MmrmResult, rounding: Rounding,
                visits: dict[str, str]) -> pd.DataFrame:  # fmt: skip
    def f(v: float) -> str:
        return fmt_number(v, 1, rounding=rounding)

    means = {(m.visit, m.arm): m for m in fit.ls_means}
    rows = []
    for c in fit.contrasts:
        t, k = means[(c.visit, trial.treated[0])], means[(c.visit, trial.control[0])]
        rows.append({
            "Visit": visits.get(c.visit, c.visit),
            trial.treated[1]: f"{f(t.estimate)} ({f(t.low)} to {f(t.high)})",
            trial.control[1]: f"{f(k.estimate)} ({f(k.low)} to {f(k.high)})",
            "Difference (95% CI)": f"{f(c.estimate)} ({f(c.low)} to {f(c.high)})",
            "df (Satterthwaite)": f"{c.df:.1f}", "p": _p(c.p_value),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _by_arm(safety: pd.DataFrame, table: str, arms: list[str], rounding: Rounding) -> pd.DataFrame:
    """An ARD table of subjects by arm: n (%) per arm, one row per variable and level."""
    part = safety[safety["table"] == table] if len(safety) else safety
    if part.empty:
        return pd.DataFrame()
    wide: dict[tuple[str, str], dict[str, str]] = {}
    for (variable, level, group), rows in part.groupby(["variable", "level", "group"],
                                                        sort=False):  # fmt: skip
        stats = dict(zip(rows["stat"], rows["value"], strict=True))
        text = f"{int(stats['n'])} ({fmt_number(stats['pct'], 1, rounding=rounding)}%)"
        wide.setdefault((str(variable), str(level)), {})[str(group)] = text
    return pd.DataFrame([
        {"Measure": f"{variable}{': ' + level if level else ''}",
         **{arm: cells.get(arm, "0 (0.0%)") for arm in arms}}
        for (variable, level), cells in wide.items()
    ])  # fmt: skip


def _soc_pt(safety: pd.DataFrame, arms: list[str], rounding: Rounding) -> pd.DataFrame:
    """SOC rows and their PT rows indented below them, a column per arm."""
    frames = []
    for arm in arms:
        part = safety[safety["table"] == f"ae_soc_pt:{arm}"]  # group: the SOC of the row
        indented = [v if v == soc else f"    {v}" for v, soc in zip(
            part["variable"], part["group"], strict=True)]  # fmt: skip
        frames.append(part.assign(variable=indented, group=arm, table="soc_pt"))
    merged = pd.concat(frames) if frames else pd.DataFrame()
    return _by_arm(merged, "soc_pt", arms, rounding) if len(merged) else pd.DataFrame()


def _baseline(analysis: AnalysisData, trial: TrialAnalysis, rounding: Rounding) -> pd.DataFrame:
    adsl = analysis.adsl[analysis.adsl["ITTFL"] == "Y"]
    base = analysis.adqs[analysis.adqs["ABLFL"].eq("Y")].pivot_table(
        index="USUBJID", columns="PARAMCD", values="AVAL", aggfunc="first")  # fmt: skip
    rows: list[dict[str, str]] = []
    arms = [trial.treated, trial.control]

    def f(v: float) -> str:
        return fmt_number(v, 1, rounding=rounding)

    def numeric(label: str, values: dict[str, pd.Series]) -> None:
        rows.append({"Characteristic": f"{label}, mean (SD)",
                     **{lab: f"{f(values[c].mean())} ({f(values[c].std())})" if len(
                         values[c].dropna()) else "NE" for c, lab in arms}})  # fmt: skip

    groups = {c: adsl[adsl["ARMCD"] == c] for c, _ in arms}
    rows.append(
        {"Characteristic": "Subjects (ITT)", **{lab: str(len(groups[c])) for c, lab in arms}}
    )
    numeric("Age (years)", {c: g["AGE"].astype(float) for c, g in groups.items()})
    for code, label in (("F", "Female"), ("M", "Male")):
        rows.append({"Characteristic": f"{label}, n (%)",
                     **{lab: _rate(int((groups[c]["SEX"] == code).sum()), len(groups[c]),
                                   rounding) for c, lab in arms}})  # fmt: skip
    for level in ("current", "former", "never"):
        smokers = {c: int((g["SMOKING"] == level).sum()) for c, g in groups.items()}
        rows.append(
            {
                "Characteristic": f"Smoking: {level}, n (%)",
                **{lab: _rate(smokers[c], len(groups[c]), rounding) for c, lab in arms},
            }
        )
    numeric("PPP duration (months)", {c: g["DURDISM"].astype(float) for c, g in groups.items()})
    for paramcd, label in (("PPPASI", "PPPASI"), ("PGA", "PPP PGA"), ("DLQI", "DLQI")):
        if paramcd in base:
            numeric(f"Baseline {label}", {c: g["USUBJID"].map(base[paramcd]).astype(float)
                                          for c, g in groups.items()})  # fmt: skip
    return pd.DataFrame(rows)


def _subgroup_table(trial: TrialAnalysis, rounding: Rounding) -> pd.DataFrame:
    s = trial.subgroups
    if s.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        "Subgroup": s["subgroup"], "Level": s["level"],
        trial.treated[1]: s["treated"], trial.control[1]: s["control"],
        "Difference, points (95% CI)": [
            _effect(Effect("risk difference", e, lo, hi, ""), rounding, points=True)
            for e, lo, hi in zip(s["estimate"], s["low"], s["high"], strict=True)],
        "Interaction p (exploratory)": [_p(p) for p in s["interaction_p"]],
    })  # fmt: skip


def _outside(analysis: AnalysisData, trial: TrialAnalysis) -> pd.DataFrame:
    """Every randomized subject outside the modified ITT or per-protocol set, and why."""
    adsl = analysis.adsl[analysis.adsl["RANDFL"] == "Y"]
    labels = dict((trial.treated, trial.control))
    rows = [
        {"Subject": r.SUBJID, "Arm": labels.get(str(r.ARMCD), str(r.ARMCD)), "Population": name,
         "Reason": reason}
        for r in adsl.itertuples()
        for flag, name, reason in (("MITTFL", "Modified intention to treat", r.MITTRSN),
                                   ("PPROTFL", "Per protocol", r.PPROTRSN))
        if getattr(r, flag) != "Y"
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["Subject", "Arm", "Population", "Reason"])


def _methods(trial: TrialAnalysis) -> list[str]:
    strata = ", ".join(trial.strata) or "none"
    return [
        f"Analysis population: {trial.population} ({trial.population_definition}). "
        f"Missing responses: {trial.missing_rule}.",
        "Binary endpoints: each arm's rate with the Clopper–Pearson interval; the difference "
        "with the Miettinen–Nurminen score interval and Newcombe's hybrid score interval; the "
        "relative risk and odds ratio with Miettinen–Nurminen score intervals; Fisher's exact "
        f"test. Stratified by the randomization strata as randomized ({strata}): the "
        "Cochran–Mantel–Haenszel test without continuity correction, the Mantel–Haenszel "
        "common difference (Sato variance) and odds ratio (Robins–Breslow–Greenland). "
        "Adjusted: logistic regression on arm and baseline PPPASI (Wald interval).",
        f"Testing order: the primary endpoint by the CMH test at alpha; the key secondary "
        f"endpoints only if it succeeds, by {trial.multiplicity}. Results the procedure "
        "reaches are marked confirmatory; every other p-value is descriptive.",
        "Continuous endpoints: ANCOVA of the change at the primary visit on arm, baseline and "
        "the strata (least-squares means with stratum levels weighed equally); across visits "
        "a mixed model for repeated measures (visit, arm × visit, baseline × visit, strata; "
        "unstructured covariance; REML; Satterthwaite degrees of freedom).",
        "Subgroups (each stratification factor and sex) are exploratory: the difference "
        "within each level and the likelihood-ratio test of the arm × subgroup interaction "
        "in a logistic model, unadjusted for multiplicity.",
        "Safety by arm as treated: subjects (not events) with treatment-emergent AEs by "
        "MedDRA SOC and PT, worst CTCAE grade, serious AEs and AEs leading to withdrawal or "
        "interruption; lab shifts from the grade before the first dose to the worst grade on "
        "treatment, each arm over its own safety set.",
    ]


def trial_report(analysis: AnalysisData, *, figures: bool = True) -> TrialReport:
    """The trial's part of the report from an unblinded analysis (see the module)."""
    trial = analyse_trial(analysis)
    flow = trial_flow(analysis, trial)
    rounding = analysis.settings.rounding
    arms = [trial.treated[1], trial.control[1]]
    visits = {code: label for code, label, _ in analysis.visits}
    counts = trial.counts.reset_index().rename(columns={"index": "Population"})
    tables = {
        "Subjects by arm and analysis population": counts,
        "Randomized subjects outside an analysis population, and why": _outside(analysis,
                                                                                 trial),
        "Baseline characteristics by arm (intention to treat)": _baseline(analysis, trial,
                                                                          rounding),
        f"Binary endpoints by arm ({trial.population.lower()})": _binary_table(trial, rounding),
        "Binary endpoints: relative effects and other intervals": _relative_table(
            trial, rounding),
        "Binary endpoints stratified by the randomization strata": _stratified_table(
            trial, rounding),
        "Change from baseline by ANCOVA": _ancova_table(trial, rounding, visits),
    }  # fmt: skip
    for paramcd, fit in trial.mmrm.items():
        if not isinstance(fit, str):
            tables[f"{paramcd} change from baseline by visit (MMRM)"] = _mmrm_table(
                trial, fit, rounding, visits)  # fmt: skip
    tables |= {
        "Adverse events by arm: overview (safety set, as treated)": _by_arm(
            trial.safety, "ae_overview", arms, rounding),
        "Adverse events by arm: SOC and PT": _soc_pt(trial.safety, arms, rounding),
        "Lab shifts by arm: grade before the first dose → worst on treatment": _by_arm(
            trial.safety, "lab_shift", arms, rounding),
        "Primary endpoint by subgroup (exploratory)": _subgroup_table(trial, rounding),
    }  # fmt: skip
    drawn: list[Figure_] = []
    if figures:
        subjects = analysis.adsl[analysis.adsl[trial.population_flag] == "Y"]
        drawn = [
            consort_by_arm(flow, trial.population.lower()),
            mean_change_by_arm(analysis, subjects, [trial.treated, trial.control]),
        ]
        if not trial.subgroups.empty:
            drawn.append(forest_plot(trial.subgroups, "Primary endpoint by subgroup "
                                     "(exploratory)"))  # fmt: skip
    return TrialReport(trial, flow, tables, drawn, _methods(trial), consort_checklist())


def consort_checklist() -> list[tuple[str, str, str]]:
    """The CONSORT 2010 checklist items and where this report answers each (or that the
    authors must).

    >>> items = consort_checklist()
    >>> items[0][0], len(items)
    ('1a', 37)
    """
    authors = "Authors (manuscript)"
    return [
        ("1a", "Identification as a randomised trial in the title", "Report title and section 1"),
        ("1b", "Structured summary", authors),
        ("2a", "Scientific background and rationale", authors),
        ("2b", "Specific objectives or hypotheses", "Section 1 (protocol description)"),
        ("3a", "Trial design, allocation ratio", "Section 1 (treatment; randomization)"),
        ("3b", "Changes to methods after commencement", authors),
        ("4a", "Eligibility criteria", "Section 1, eligibility table"),
        ("4b", "Settings and locations", "Baseline table (site) and subgroups"),
        ("5", "Interventions", "Section 1, treatment"),
        ("6a", "Pre-specified outcomes", "Section 3 and the binary endpoints table"),
        ("6b", "Changes to outcomes after commencement", authors),
        ("7a", "Sample size", "Section 1 (the design record, if the protocol has one)"),
        ("7b", "Interim analyses and stopping guidelines", "Interim monitoring, if any"),
        ("8a", "Method to generate the allocation sequence", "Methods (randomization)"),
        ("8b", "Type of randomisation, restriction", "Methods (randomization)"),
        ("9", "Allocation concealment mechanism", "Methods (randomization)"),
        ("10", "Who generated, enrolled and assigned", "Methods (randomization); audit trail"),
        ("11a", "Blinding", "Section 1 (blinding)"),
        ("11b", "Similarity of interventions", authors),
        ("12a", "Statistical methods for outcomes", "Methods"),
        ("12b", "Additional analyses (subgroups, adjusted)", "Methods; subgroup table"),
        ("13a", "Participants randomised, treated, analysed, by group", "CONSORT flow diagram"),
        ("13b", "Losses and exclusions after randomisation, with reasons",
         "CONSORT flow diagram"),
        ("14a", "Dates of recruitment and follow-up", "Disposition; reproducibility"),
        ("14b", "Why the trial ended or was stopped", authors),
        ("15", "Baseline characteristics by group", "Baseline characteristics by arm"),
        ("16", "Numbers analysed in each group", "Subjects by arm and population"),
        ("17a", "Outcomes with effect size and precision", "Binary endpoints; ANCOVA; MMRM"),
        ("17b", "Binary outcomes: absolute and relative effect sizes",
         "Binary endpoints (difference, relative risk, odds ratio)"),
        ("18", "Other analyses, pre-specified or exploratory", "Subgroups (exploratory)"),
        ("19", "Harms", "Adverse events by arm; lab shifts by arm"),
        ("20", "Limitations", authors),
        ("21", "Generalisability", authors),
        ("22", "Interpretation", authors),
        ("23", "Registration", "Section 1 (protocol reference)"),
        ("24", "Where the protocol can be accessed", "Reproducibility (protocol version)"),
        ("25", "Funding", authors),
    ]  # fmt: skip
