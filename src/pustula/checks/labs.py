"""Lab values: units, CTCAE v5.0 grades where the domain doc gives thresholds, and alerts.

References
----------
Common Terminology Criteria for Adverse Events (CTCAE) v5.0, NCI 2017: ALT/AST increased,
neutrophil count decreased. Tofacitinib prescribing information: lab thresholds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pustula.errors import DataValidationError
from pustula.protocol.model import LabRule

__all__ = ["LabAlert", "convert_unit", "ctcae_grade", "evaluate_lab_alerts"]

# Factors to convert (test, from-unit) to the unit the protocol's rules use.
_UNIT_FACTORS: dict[tuple[str, str], tuple[str, float]] = {}
for _cells in ("lymphocytes", "neutrophils", "leukocytes", "platelets"):
    _UNIT_FACTORS[(_cells, "10^9/L")] = ("/mm3", 1000.0)
    _UNIT_FACTORS[(_cells, "/uL")] = ("/mm3", 1.0)
    _UNIT_FACTORS[(_cells, "cells/uL")] = ("/mm3", 1.0)
_UNIT_FACTORS[("haemoglobin", "g/L")] = ("g/dL", 0.1)


def convert_unit(test: str, value: float, unit: str, *, to: str) -> float:
    """Express ``value`` of ``test`` in the unit ``to``.

    >>> convert_unit("neutrophils", 1.2, "10^9/L", to="/mm3")
    1200.0

    Raises
    ------
    DataValidationError
        No conversion is known: the value is never compared in the wrong unit.
    """
    if unit == to:
        return value
    target = _UNIT_FACTORS.get((test, unit))
    if target is None or target[0] != to:
        raise DataValidationError(
            f"{test} in `{unit}` cannot be converted to `{to}`; enter it in {to}", field="unit"
        )
    return round(value * target[1], 6)


def ctcae_grade(
    test: str, value: float, *, lower_limit: float | None = None, upper_limit: float | None = None
) -> int | None:
    """CTCAE v5.0 grade for ALT/AST (× ULN) and neutrophils (per mm³); None otherwise.

    Grade 0 means within limits. ALT/AST need the upper limit of normal; neutrophils above
    1500 need the lower limit of normal to tell grade 0 from grade 1.

    >>> ctcae_grade("alt", 130, upper_limit=40)  # 3.25 × ULN
    2
    >>> [ctcae_grade("neutrophils", v, lower_limit=1800) for v in (1800, 1600, 1200, 700, 400)]
    [0, 1, 2, 3, 4]
    """
    if test in ("alt", "ast"):
        if upper_limit is None or upper_limit <= 0:
            return None
        ratio = value / upper_limit
        for grade, above in ((4, 20), (3, 5), (2, 3), (1, 1)):
            if ratio > above:
                return grade
        return 0
    if test == "neutrophils":
        for grade, below in ((4, 500), (3, 1000), (2, 1500)):
            if value < below:
                return grade
        if lower_limit is None:
            return None
        return 1 if value < lower_limit else 0
    return None


@dataclass(frozen=True)
class LabAlert:
    rule_id: str
    action: str
    text: str
    needs_confirmation: bool


def evaluate_lab_alerts(
    rules: Iterable[LabRule],
    *,
    test: str,
    value: float,
    unit: str,
    on_treatment: bool,
    baseline: tuple[float, str] | None = None,
) -> tuple[LabAlert, ...]:
    """The protocol's rules that fire for this value, in protocol order.

    ``baseline`` is the subject's baseline ``(value, unit)`` of the same test; a drop rule
    needs it and does not fire without it.
    """
    phase = "on_treatment" if on_treatment else "before_start"
    alerts = []
    for rule in rules:
        if rule.test != test or rule.phase != phase:
            continue
        v = convert_unit(test, value, unit, to=rule.unit)
        base = None if baseline is None else convert_unit(test, *baseline, to=rule.unit)
        if _fires(rule, v, base):
            alerts.append(LabAlert(rule.id, rule.action, rule.text, rule.confirm))
    return tuple(alerts)


def _fires(rule: LabRule, v: float, base: float | None) -> bool:
    checks = [
        rule.below is None or v < rule.below,
        rule.at_or_below is None or v <= rule.at_or_below,
        rule.above is None or v > rule.above,
        rule.at_or_above is None or v >= rule.at_or_above,
    ]
    if rule.drop_from_baseline_above is not None:
        checks.append(base is not None and base - v > rule.drop_from_baseline_above)
    return all(checks)
