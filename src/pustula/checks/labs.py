"""Lab values: units, CTCAE v5.0 grades where the domain doc gives thresholds, and alerts.

References
----------
Common Terminology Criteria for Adverse Events (CTCAE) v5.0, NCI 2017: ALT/AST increased,
neutrophil count decreased. Tofacitinib prescribing information: lab thresholds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from pustula.errors import DataValidationError
from pustula.protocol.model import LabRule

__all__ = ["BaselineLab", "LabAlert", "convert_unit", "ctcae_grade", "evaluate_lab_alerts"]

# Factors to convert (test, from-unit) to the unit the protocol's rules use.
_UNIT_FACTORS: dict[tuple[str, str], tuple[str, float]] = {}
for _cells in ("lymphocytes", "neutrophils", "leukocytes", "platelets"):
    _UNIT_FACTORS[(_cells, "10^9/L")] = ("/mm3", 1000.0)
    _UNIT_FACTORS[(_cells, "/uL")] = ("/mm3", 1.0)
    _UNIT_FACTORS[(_cells, "cells/uL")] = ("/mm3", 1.0)
_UNIT_FACTORS[("haemoglobin", "g/L")] = ("g/dL", 0.1)
for _enzyme in ("alt", "ast"):
    # 1 U = 1 µmol/min = 1/60 µkat, so 1 µkat/L is exactly 60 U/L
    _UNIT_FACTORS[(_enzyme, "ukat/L")] = ("U/L", 60.0)


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
            f"{test} in {unit} cannot be converted to {to}; enter it in {to}", field="unit"
        )
    return float(_exact(value) * _exact(target[1]))


def _exact(value: float | Decimal) -> Decimal:
    """A lab number as the decimal it was written as: 2.1 is exactly 2.1, not 2.09999…"""
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


#: CTCAE v5.0 ALT/AST increased: (grade, "above this multiple") from grade 4 down.
_LIVER_STEPS = ((4, Decimal(20)), (3, Decimal(5)), (2, Decimal(3)))
#: CTCAE v5.0 neutrophil count decreased, per mm³: (grade, "below this count").
_NEUTROPHIL_STEPS = ((4, Decimal(500)), (3, Decimal(1000)), (2, Decimal(1500)))


def ctcae_grade(
    test: str,
    value: float,
    *,
    lower_limit: float | None = None,
    upper_limit: float | None = None,
    baseline: float | None = None,
    baseline_upper_limit: float | None = None,
) -> int | None:
    """CTCAE v5.0 grade for ALT/AST and neutrophils (per mm³); None for other tests.

    Grade 0 means not increased (ALT/AST) or within limits (neutrophils). Boundaries are
    compared in exact decimal arithmetic, as written: ALT 2.1 with ULN 0.7 is exactly
    3.0 × ULN, which is grade 1, not grade 2 (in binary floating point 2.1 / 0.7 is
    3.0000000000000004).

    ALT/AST need the upper limit of normal. With a normal baseline the grade is by
    multiples of the ULN (> ULN–3.0 grade 1, > 3.0–5.0 grade 2, > 5.0–20.0 grade 3,
    > 20.0 grade 4). With an abnormal baseline it is by multiples of the baseline value
    (1.5–3.0 grade 1, > 3.0–5.0 grade 2, > 5.0–20.0 grade 3, > 20.0 grade 4). Whether the
    baseline was abnormal is judged against the baseline sample's *own* upper limit
    (``baseline`` > ``baseline_upper_limit``, both in this value's unit): labs differ in
    their limits, and the new sample's ULN says nothing about the old sample. A baseline
    without its own ULN is not taken as abnormal, so the grade falls back to multiples of
    the ULN, which is never lower. Neutrophils above 1500 need the lower limit of normal
    to tell grade 0 from grade 1 (< LLN–1500).

    >>> ctcae_grade("alt", 130, upper_limit=40)  # 3.25 × ULN
    2
    >>> ctcae_grade("alt", 2.1, upper_limit=0.7)  # exactly 3.0 × ULN
    1
    >>> ctcae_grade("alt", 130, upper_limit=40, baseline=60, baseline_upper_limit=40)
    1
    >>> ctcae_grade("alt", 2.1, upper_limit=0.7, baseline=24, baseline_upper_limit=40)
    1
    >>> [ctcae_grade("neutrophils", v, lower_limit=1800) for v in (1800, 1600, 1200, 700, 400)]
    [0, 1, 2, 3, 4]

    References
    ----------
    National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
    v5.0, 27 November 2017: "Alanine aminotransferase increased", "Aspartate
    aminotransferase increased", "Neutrophil count decreased".
    """
    if test in ("alt", "ast"):
        if upper_limit is None or upper_limit <= 0:
            return None
        v, uln = _exact(value), _exact(upper_limit)
        abnormal_baseline = (
            baseline is not None
            and baseline_upper_limit is not None
            and _exact(baseline) > _exact(baseline_upper_limit)
        )
        if baseline is not None and abnormal_baseline:
            reference, grade_1 = _exact(baseline), v >= Decimal("1.5") * _exact(baseline)
        else:
            reference, grade_1 = uln, v > uln
        for grade, above in _LIVER_STEPS:
            if v > above * reference:
                return grade
        return 1 if grade_1 else 0
    if test == "neutrophils":
        v = _exact(value)
        for grade, below in _NEUTROPHIL_STEPS:
            if v < below:
                return grade
        if lower_limit is None:
            return None
        return 1 if v < _exact(lower_limit) else 0
    return None


class BaselineLab(NamedTuple):
    """A subject's baseline sample of a test: its value, unit and own upper limit.

    Examples
    --------
    >>> BaselineLab(value=24.0, unit="U/L", upper_limit=40.0).upper_limit
    40.0
    """

    value: float
    unit: str
    upper_limit: float | None = None


@dataclass(frozen=True)
class LabAlert:
    """A protocol lab rule that fired for a value: its id, the action the protocol asks for
    (e.g. interrupt treatment), the text shown, and whether it needs confirmation.

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import load_protocol
    >>> rules = load_protocol(demo_protocol_file()).lab_rules
    >>> alert = evaluate_lab_alerts(rules, test="lymphocytes", value=400, unit="/mm3",
    ...                             on_treatment=False)[0]
    >>> alert.rule_id, alert.action
    ('L_LYM_START', 'do_not_start')
    """

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
    baseline: BaselineLab | None = None,
) -> tuple[LabAlert, ...]:
    """The protocol's rules that fire for this value, in protocol order.

    ``baseline`` is the subject's baseline sample of the same test; a drop rule
    needs it and does not fire without it.

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import load_protocol
    >>> rules = load_protocol(demo_protocol_file()).lab_rules
    >>> [a.text for a in evaluate_lab_alerts(rules, test="neutrophils", value=800, unit="/mm3",
    ...                                      on_treatment=False)]
    ['ANC < 1000: do not start']
    >>> evaluate_lab_alerts(rules, test="neutrophils", value=2500, unit="/mm3", on_treatment=False)
    ()
    """
    phase = "on_treatment" if on_treatment else "before_start"
    alerts = []
    for rule in rules:
        if rule.test != test or rule.phase != phase:
            continue
        v = convert_unit(test, value, unit, to=rule.unit)
        base = (
            None
            if baseline is None
            else convert_unit(test, baseline.value, baseline.unit, to=rule.unit)
        )
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
