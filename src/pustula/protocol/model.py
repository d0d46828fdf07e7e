"""A study protocol as data: arms, visit schedule, eligibility, endpoints and lab rules.

The models are pydantic and strict: unknown keys are refused, so a misspelt option in a
protocol file is an error, never a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pustula.protocol.populations import TrialPopulations
from pustula.protocol.randomization import Randomization, design_problems

__all__ = [
    "CI_METHODS",
    "AllOf",
    "AnalysisPlan",
    "AnyOf",
    "Arm",
    "Condition",
    "Criterion",
    "DesignRecord",
    "DoseLevel",
    "Eligibility",
    "Endpoint",
    "LabRule",
    "Not",
    "Protocol",
    "Refractory",
    "Regimen",
    "Rule",
    "Treatment",
    "Visit",
]

#: Confidence interval methods for a response rate (see ``pustula.analysis.ci``).
CI_METHODS = ("clopper-pearson", "wilson", "jeffreys")
CIMethod = Literal["clopper-pearson", "wilson", "jeffreys"]
ResponderOperator = Literal[">=", ">"]
TherapyResponse = Literal["none", "partial", "intolerant"]

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")]
Operator = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains"]
Scalar = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DoseLevel(_Strict):
    """Another dose the protocol allows for a treatment (a dose reduction, say)."""

    dose: float = Field(gt=0)
    unit: str
    frequency: str


class Treatment(_Strict):
    """A study drug as planned: its drug, dose, unit, frequency and route, and the other
    dose levels the protocol allows (``dose_levels``, for example a reduction)."""

    drug: str
    dose: float = Field(gt=0)
    unit: str
    frequency: str
    route: str = "oral"
    dose_levels: tuple[DoseLevel, ...] = ()

    def regimens(self) -> tuple[Regimen, ...]:
        """The planned dose first, then each other allowed level."""
        planned = Regimen(self.drug, self.dose, self.unit, self.frequency, self.route)
        return (planned, *(Regimen(self.drug, d.dose, d.unit, d.frequency, self.route)
                           for d in self.dose_levels))  # fmt: skip


@dataclass(frozen=True)
class Regimen:
    """One choice of study drug a coordinator picks instead of typing it.

    >>> Regimen("tofacitinib", 5.0, "mg", "twice daily", "oral").label
    'tofacitinib 5 mg twice daily (oral)'
    """

    drug: str
    dose: float
    unit: str
    frequency: str
    route: str = "oral"

    @property
    def label(self) -> str:
        return f"{self.drug} {self.dose:g} {self.unit} {self.frequency} ({self.route})"

    def matches(self, drug: str, dose: float, unit: str, frequency: str) -> bool:
        """Whether a recorded dose is this regimen (names compared without case or spaces)."""

        def same(a: str, b: str) -> bool:
            return " ".join(a.lower().split()) == " ".join(b.lower().split())

        return (same(self.drug, drug) and abs(self.dose - dose) < 1e-9
                and same(self.unit, unit) and same(self.frequency, frequency))  # fmt: skip


class Arm(_Strict):
    """An arm: its code, label, planned treatment and share of the allocation ratio
    (``ratio: 2`` on the active arm and ``1`` on placebo is 2:1)."""

    code: Identifier
    label: str
    treatments: tuple[Treatment, ...] = ()
    ratio: int = Field(default=1, ge=1, le=10)


class Visit(_Strict):
    """A planned visit. ``day`` counts from the first dose (day 0).

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import load_protocol
    >>> week2 = load_protocol(demo_protocol_file()).visits[1]
    >>> week2.code, week2.day, week2.window_before, week2.window_after
    ('W2', 14, 3, 3)
    """

    code: Identifier
    label: str
    day: int = Field(ge=0)
    window_before: int = Field(default=0, ge=0)
    window_after: int = Field(default=0, ge=0)
    instruments: tuple[str, ...] = ()
    baseline: bool = False


class Condition(_Strict):
    """``field op value`` on the subject's data; ``field`` may be dotted (``labs.neutrophils``)."""

    field: str
    op: Operator
    value: Scalar | tuple[Scalar, ...]


class AllOf(_Strict):
    all: tuple[Rule, ...] = Field(min_length=1)


class AnyOf(_Strict):
    any: tuple[Rule, ...] = Field(min_length=1)


class Not(_Strict):
    not_: Rule = Field(alias="not")


Rule = Union[Condition, AllOf, AnyOf, Not]  # noqa: UP007 (a recursive alias needs Union)
AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


class Criterion(_Strict):
    id: Identifier
    text: str
    rule: Rule


class Eligibility(_Strict):
    inclusion: tuple[Criterion, ...] = ()
    exclusion: tuple[Criterion, ...] = ()


class Endpoint(_Strict):
    """A responder endpoint at one visit.

    ``pppasi_reduction``: a percent reduction from baseline of ``threshold`` (a whole
    percent) or more. ``pga_0_1``: PGA clear or almost clear. How the comparison is made
    (≥ or >), and which subjects a PGA response is analysed in, is the analysis plan's
    (:class:`AnalysisPlan`): one definition for every endpoint, table and figure.

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import load_protocol
    >>> primary = load_protocol(demo_protocol_file()).endpoints[0]
    >>> primary.id, primary.visit, primary.threshold, primary.primary
    ('PPPASI50_W4', 'W4', 50, True)
    """

    id: Identifier
    label: str
    instrument: Literal["pppasi", "pga"]
    visit: Identifier
    kind: Literal["pppasi_reduction", "pga_0_1"]
    threshold: int | None = Field(default=None, gt=0, le=100)
    primary: bool = False

    @model_validator(mode="after")
    def _kind_matches(self) -> Endpoint:
        if self.kind == "pppasi_reduction":
            if self.instrument != "pppasi" or self.threshold is None:
                raise ValueError(
                    "a pppasi_reduction endpoint needs instrument pppasi and a threshold"
                )
        elif self.instrument != "pga" or self.threshold is not None:
            raise ValueError("a pga_0_1 endpoint needs instrument pga and no threshold")
        return self


class LabRule(_Strict):
    """A lab alert: a value in the given bounds, in ``unit``, triggers ``action``.

    Bounds combine with AND: ``at_or_above: 500, at_or_below: 1000`` is the range 500–1000.
    ``drop_from_baseline_above`` fires when the value fell by more than that from the
    subject's baseline value of the same test.

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import load_protocol
    >>> rule = load_protocol(demo_protocol_file()).lab_rules[0]
    >>> rule.test, rule.below, rule.action
    ('lymphocytes', 500.0, 'do_not_start')
    """

    id: Identifier
    test: str
    unit: str
    phase: Literal["before_start", "on_treatment"]
    below: float | None = None
    at_or_below: float | None = None
    above: float | None = None
    at_or_above: float | None = None
    drop_from_baseline_above: float | None = Field(default=None, gt=0)
    action: Literal["do_not_start", "interrupt", "discontinue", "review"]
    confirm: bool = False
    text: str

    @model_validator(mode="after")
    def _has_a_bound(self) -> LabRule:
        bounds = (self.below, self.at_or_below, self.above, self.at_or_above)
        if all(b is None for b in bounds) and self.drop_from_baseline_above is None:
            raise ValueError("a lab rule needs at least one bound or drop_from_baseline_above")
        return self


class AnalysisPlan(_Strict):
    """The analysis choices the sources leave open, stated in the protocol file.

    Every table, figure and endpoint of an analysis uses these one set of choices; a
    caller may override them for a sensitivity analysis (``AnalysisSettings``).

    - ``operator``: a response is a reduction ``>=`` the cut-off (default) or ``>`` it; the
      seed paper's abstract writes both ">80%" and "80%".
    - ``baseline_zero``: a subject with a baseline PPPASI of 0 has no percentage change;
      ``not_evaluable`` (default) leaves them out of the responder denominator, and
      ``non_responder`` counts them as non-responders.
    - ``visit_windows``: ``nominal`` (default) analyses a visit at its nominal visit and
      flags it when it is outside the protocol window; ``protocol`` leaves out-of-window
      post-baseline values out of the analysis (the missing-data rule then applies).
    - ``imputation``: missing post-baseline values: ``OC`` (observed cases, default),
      ``LOCF`` (the last post-baseline value carried forward; a subject with none stays
      missing), ``LOCF_BASELINE`` (the baseline carried too) or ``NRI`` (non-responder).
    - ``rounding``: how tables round: ``half_up`` (default; SAS and R users expect 2.25 →
      2.3) or ``half_even``.
    - ``wilcoxon_zero_method``: ``wilcox`` drops zero changes (default), ``pratt`` ranks
      them.

    For a randomized trial:

    - ``populations``: what the modified ITT set needs and which deviations take a
      subject out of the per-protocol set (:class:`TrialPopulations`).
    - ``key_secondary``: the key secondary endpoints' ids in their testing order; they are
      tested only after the primary, ``fixed_sequence`` (each at the full alpha until one
      fails, default) or by ``holm`` (as a family), as ``multiplicity`` says.
    """

    operator: ResponderOperator = ">="
    baseline_zero: Literal["not_evaluable", "non_responder"] = "not_evaluable"
    visit_windows: Literal["nominal", "protocol"] = "nominal"
    imputation: Literal["OC", "LOCF", "LOCF_BASELINE", "NRI"] = "OC"
    ci_method: CIMethod = "clopper-pearson"
    alpha: float = Field(default=0.05, gt=0, lt=1)
    pga_baseline_min: int | None = Field(default=None, ge=0, le=4)
    pga_min_improvement: int | None = Field(default=None, ge=1, le=4)
    rounding: Literal["half_up", "half_even"] = "half_up"
    wilcoxon_zero_method: Literal["wilcox", "pratt"] = "wilcox"
    populations: TrialPopulations = TrialPopulations()
    key_secondary: tuple[Identifier, ...] = ()
    multiplicity: Literal["fixed_sequence", "holm"] = "fixed_sequence"


class Refractory(_Strict):
    """Which recorded responses to a prior therapy make it a failed (refractory) therapy.

    The seed paper calls patients refractory after "no response" to topical drugs and to
    at least one systemic agent, so only ``none`` counts by default. A protocol that also
    counts a partial response or intolerance says so here.
    """

    failed_responses: tuple[TherapyResponse, ...] = Field(default=("none",), min_length=1)

    def failed(self, response: str) -> bool:
        """Whether a prior therapy with this response counts as failed.

        >>> Refractory().failed("none"), Refractory().failed("partial")
        (True, False)
        """
        return response in self.failed_responses


class DesignRecord(_Strict):
    """The design that sized the study (``pustula design … --protocol``): its method, its
    parameters and results, and the number of subjects it plans.

    Examples
    --------
    >>> DesignRecord(method="two_arm", planned_subjects=98, parameters={"p1": 0.6}).method
    'two_arm'
    """

    method: Literal["two_arm", "simon_two_stage", "single_stage", "bayesian_predictive"]
    planned_subjects: int = Field(ge=1)
    parameters: dict[str, float | int | None] = {}
    reference: str = ""


class Protocol(_Strict):
    """A study protocol as validated data: visits with windows, eligibility criteria,
    endpoints, lab rules, arms and the analysis plan (see ``load_protocol``).

    Examples
    --------
    >>> from pustula.protocol import load_protocol
    >>> from importlib.resources import files
    >>> p = load_protocol(files("pustula.protocols") / "tofacitinib-ppp-case-series.yaml")
    >>> [v.code for v in p.visits]
    ['W0', 'W2', 'W4', 'W12']
    """

    id: Identifier
    title: str
    version: str = "1"
    description: str = ""
    reference: str = ""
    #: Where the study runs: ISO 3166-1 alpha-3 (SDTM DM.COUNTRY), e.g. CHN.
    country: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    arms: tuple[Arm, ...] = Field(min_length=1)
    visits: tuple[Visit, ...] = Field(min_length=1)
    eligibility: Eligibility = Eligibility()
    endpoints: tuple[Endpoint, ...] = ()
    lab_rules: tuple[LabRule, ...] = ()
    analysis: AnalysisPlan = AnalysisPlan()
    refractory: Refractory = Refractory()
    #: How subjects are allocated to the arms; none for a single-arm study or case series.
    randomization: Randomization | None = None
    #: The design that sized the study, when a design wrote the protocol.
    design: DesignRecord | None = None
    #: What blinded staff record as study drug in a blinded trial: the kit as dispensed
    #: ("tofacitinib or placebo (blinded)", 1 tablet twice daily), never an arm's drug.
    blinded_treatment: Treatment | None = None

    @model_validator(mode="after")
    def _consistent_randomization(self) -> Protocol:
        if self.randomization is not None:
            problems = design_problems(self.randomization, self.arms)
            if problems:
                raise ValueError("randomization: " + "; ".join(problems))
        codes = [a.code for a in self.arms]
        if len(set(codes)) != len(codes):
            raise ValueError("arms: each arm needs its own code")
        endpoints = {e.id: e for e in self.endpoints}
        unknown = [k for k in self.analysis.key_secondary if k not in endpoints]
        primary = [
            k for k in self.analysis.key_secondary if k in endpoints and endpoints[k].primary
        ]
        if unknown or primary:
            raise ValueError(
                "analysis.key_secondary: "
                + "; ".join([f"{k} is not an endpoint of this protocol" for k in unknown]
                            + [f"{k} is the primary endpoint" for k in primary])
            )  # fmt: skip
        return self

    @property
    def randomized(self) -> bool:
        return self.randomization is not None

    @property
    def blinded(self) -> bool:
        """A randomized trial whose arms are concealed from blinded roles (single or double)."""
        return self.randomization is not None and self.randomization.blinded

    @property
    def regimens(self) -> tuple[Regimen, ...]:
        """The study drug choices a coordinator is offered: the blinded kit in a blinded
        trial (if the protocol names it), else each arm's treatments and allowed levels."""
        if self.blinded and self.blinded_treatment is not None:
            return self.blinded_treatment.regimens()
        found = [r for arm in self.arms for t in arm.treatments for r in t.regimens()]
        return tuple(dict.fromkeys(found))

    @property
    def baseline_visit(self) -> Visit:
        return next(v for v in self.visits if v.baseline)

    def visit(self, code: str) -> Visit:
        for v in self.visits:
            if v.code == code:
                return v
        known = ", ".join(v.code for v in self.visits)
        raise KeyError(f"visit `{code}` is not in the protocol (known: {known})")

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "visits": [v.code for v in self.visits],
            "inclusion": len(self.eligibility.inclusion),
            "exclusion": len(self.eligibility.exclusion),
            "endpoints": [e.id for e in self.endpoints],
            "lab_rules": len(self.lab_rules),
        }
