"""The analysis options a statistician may change, in words, and how a run departs from the plan.

A protocol's analysis plan fixes the options its file states; the others take Pustula's
defaults. An analysis that changes either is a sensitivity analysis, and every report of it
says where it departs from the plan (:func:`departures`). The web app's options form and the
report read the same table (:data:`OPTIONS`), so an option is named one way everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pustula.analysis.ci import CI_METHOD_NAMES
from pustula.analysis.settings import AnalysisSettings, confidence_label
from pustula.protocol import Protocol

__all__ = ["OPTIONS", "Departure", "Option", "departures", "fixed_by_plan", "settings_with"]


@dataclass(frozen=True)
class Option:
    """One analysis option: its setting's name, its label and its choices as (value, words)."""

    name: str
    label: str
    choices: tuple[tuple[Any, str], ...]

    #: what :meth:`choice` answers for a text that is none of the choices
    UNKNOWN: ClassVar[object] = object()

    def words(self, value: Any) -> str:
        """The choice's words (a value outside the list, such as an unusual alpha, as is)."""
        for choice, text in self.choices:
            if choice == value:
                return text
        return confidence_label(value) if self.name == "alpha" else str(value)

    def choice(self, raw: str) -> Any:
        """The value a form's ``raw`` text stands for, or :attr:`UNKNOWN`.

        >>> BY_NAME["alpha"].choice("0.1"), BY_NAME["alpha"].choice("0.2") is Option.UNKNOWN
        (0.1, True)
        """
        for value, _ in self.choices:
            if raw == self.token(value):
                return value
        return Option.UNKNOWN

    def tokens(self) -> list[tuple[str, str]]:
        """The choices as a form sends them: (text token, words)."""
        return [(self.token(value), text) for value, text in self.choices]

    @staticmethod
    def token(value: Any) -> str:
        """A value as a form sends it: ``none`` for None, ``0.05`` for 0.05."""
        if value is None:
            return "none"
        return f"{value:g}" if isinstance(value, float) else str(value)


OPTIONS: tuple[Option, ...] = (
    Option("operator", "Responder cut-off", (
        (">=", "A reduction of at least the cut-off (≥)"),
        (">", "A reduction of more than the cut-off (>)"))),
    Option("imputation", "Missing data", (
        ("OC", "Observed cases only"),
        ("LOCF", "Last post-baseline value carried forward"),
        ("LOCF_BASELINE", "Last value carried forward, baseline included"),
        ("NRI", "Missing counts as non-response"))),
    Option("ci_method", "Confidence interval for rates",
           tuple((k, v) for k, v in CI_METHOD_NAMES.items())),
    Option("alpha", "Confidence level", (
        (0.1, "90%"), (0.05, "95%"), (0.025, "97.5%"), (0.01, "99%"))),
    Option("baseline_zero", "A baseline PPPASI of 0", (
        ("not_evaluable", "Not evaluable (left out of the denominator)"),
        ("non_responder", "Counted as a non-responder"))),
    Option("visit_windows", "Visits outside their window", (
        ("nominal", "Analysed at their nominal visit, flagged"),
        ("protocol", "Left out of the analysis"))),
    Option("pga_baseline_min", "PGA 0/1: who is counted", (
        (None, "Every subject"),
        *((g, f"Only subjects with a baseline PGA of {g} or more") for g in (1, 2, 3, 4)))),
    Option("pga_min_improvement", "PGA 0/1: improvement needed", (
        (None, "None beyond reaching 0 or 1"),
        *((g, f"At least {g} grade{'s' if g > 1 else ''} better than baseline")
          for g in (1, 2, 3, 4)))),
    Option("rounding", "Rounding in tables", (
        ("half_up", "Half up (2.25 → 2.3)"), ("half_even", "Half to even (2.25 → 2.2)"))),
    Option("wilcoxon_zero_method", "Zero changes in the Wilcoxon test", (
        ("wilcox", "Dropped (Wilcoxon)"), ("pratt", "Ranked (Pratt)"))),
)  # fmt: skip

BY_NAME = {o.name: o for o in OPTIONS}


@dataclass(frozen=True)
class Departure:
    """An option whose value is not the analysis plan's."""

    label: str
    plan: str
    chosen: str

    def __str__(self) -> str:
        return f"{self.label}: {self.chosen} (the plan: {self.plan})"


def fixed_by_plan(protocol: Protocol) -> frozenset[str]:
    """The options the protocol file states (the others are Pustula's defaults).

    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import load_protocol
    >>> sorted(fixed_by_plan(load_protocol(demo_protocol_file())))[:3]
    ['alpha', 'baseline_zero', 'ci_method']
    """
    return frozenset(protocol.analysis.model_fields_set & BY_NAME.keys())


def settings_with(protocol: Protocol, choices: Mapping[str, Any]) -> AnalysisSettings:
    """The plan's settings with ``choices`` (None is a choice here: "no PGA restriction")."""
    plan = AnalysisSettings.from_protocol(protocol)
    return AnalysisSettings.build(**{**plan.model_dump(), **choices})


def departures(settings: AnalysisSettings, protocol: Protocol) -> list[Departure]:
    """Where ``settings`` differ from the protocol's plan, in the order of :data:`OPTIONS`.

    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import load_protocol
    >>> protocol = load_protocol(demo_protocol_file())
    >>> [str(d) for d in departures(settings_with(protocol, {"imputation": "NRI"}), protocol)]
    ['Missing data: Missing counts as non-response (the plan: Observed cases only)']
    """
    plan = AnalysisSettings.from_protocol(protocol)
    return [
        Departure(o.label, o.words(getattr(plan, o.name)), o.words(getattr(settings, o.name)))
        for o in OPTIONS
        if getattr(settings, o.name) != getattr(plan, o.name)
    ]
