"""A study protocol as data: arms, visit schedule, eligibility, endpoints and lab rules.

The models are pydantic and strict: unknown keys are refused, so a misspelt option in a
protocol file is an error, never a silent default.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AllOf",
    "AnyOf",
    "Arm",
    "Condition",
    "Criterion",
    "Eligibility",
    "Endpoint",
    "LabRule",
    "Not",
    "Protocol",
    "Rule",
    "Treatment",
    "Visit",
]

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")]
Operator = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains"]
Scalar = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Treatment(_Strict):
    drug: str
    dose: float = Field(gt=0)
    unit: str
    frequency: str
    route: str = "oral"


class Arm(_Strict):
    code: Identifier
    label: str
    treatments: tuple[Treatment, ...] = ()


class Visit(_Strict):
    """A planned visit. ``day`` counts from the first dose (day 0)."""

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

    ``pppasi_reduction``: percent reduction from baseline compared with ``threshold`` by
    ``operator`` (≥ by default; the seed paper's abstract writes both ">80%" and "80%").
    ``pga_0_1``: PGA clear or almost clear, optionally only for subjects with baseline ≥
    ``baseline_min`` and with an improvement of at least ``min_improvement`` grades.
    """

    id: Identifier
    label: str
    instrument: Literal["pppasi", "pga"]
    visit: Identifier
    kind: Literal["pppasi_reduction", "pga_0_1"]
    threshold: float | None = Field(default=None, gt=0, le=100)
    operator: Literal[">=", ">"] = ">="
    baseline_min: int | None = Field(default=None, ge=0, le=4)
    min_improvement: int | None = Field(default=None, ge=1, le=4)
    primary: bool = False

    @model_validator(mode="after")
    def _kind_matches(self) -> Endpoint:
        if self.kind == "pppasi_reduction":
            if self.instrument != "pppasi" or self.threshold is None:
                raise ValueError(
                    "a pppasi_reduction endpoint needs instrument pppasi and a threshold"
                )
            if self.baseline_min is not None or self.min_improvement is not None:
                raise ValueError("baseline_min and min_improvement apply to pga_0_1 endpoints only")
        elif self.instrument != "pga" or self.threshold is not None:
            raise ValueError("a pga_0_1 endpoint needs instrument pga and no threshold")
        return self


class LabRule(_Strict):
    """A lab alert: a value in the given bounds, in ``unit``, triggers ``action``.

    Bounds combine with AND: ``at_or_above: 500, at_or_below: 1000`` is the range 500–1000.
    ``drop_from_baseline_above`` fires when the value fell by more than that from the
    subject's baseline value of the same test.
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


class Protocol(_Strict):
    id: Identifier
    title: str
    version: str = "1"
    description: str = ""
    reference: str = ""
    arms: tuple[Arm, ...] = Field(min_length=1)
    visits: tuple[Visit, ...] = Field(min_length=1)
    eligibility: Eligibility = Eligibility()
    endpoints: tuple[Endpoint, ...] = ()
    lab_rules: tuple[LabRule, ...] = ()

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
