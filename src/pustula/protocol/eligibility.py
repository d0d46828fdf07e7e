"""Evaluate a protocol's eligibility criteria on one subject's data.

A criterion whose data are not recorded is neither met nor failed: it is *not evaluable*
and the subject cannot be enrolled until it is, because eligibility must be shown, not
assumed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pustula.errors import EligibilityError
from pustula.protocol.facts import COMPARISONS, describe_value, fact
from pustula.protocol.model import AllOf, Condition, Criterion, Not, Protocol, Rule

__all__ = ["NOT_A_RESULT", "CriterionResult", "EligibilityResult", "evaluate_eligibility"]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "contains": lambda a, b: b in a,
}


class _NotRecordedError(Exception):
    def __init__(self, field: str) -> None:
        self.field = field


@dataclass(frozen=True)
class CriterionResult:
    """One criterion's outcome. ``met`` is None when the data needed are not recorded.

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import evaluate_eligibility, load_protocol
    >>> protocol = load_protocol(demo_protocol_file())
    >>> first = evaluate_eligibility(protocol, {"age": 17}).criteria[0]
    >>> first.id, first.met, first.passed
    ('I1', False, False)
    """

    id: str
    kind: Literal["inclusion", "exclusion"]
    text: str
    met: bool | None
    passed: bool
    reason: str


@dataclass(frozen=True)
class EligibilityResult:
    """Whether a subject is eligible, with the outcome of each criterion (met, not met or
    not evaluable) and the reason, as screening stores them.

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import evaluate_eligibility, load_protocol
    >>> result = evaluate_eligibility(load_protocol(demo_protocol_file()), {"age": 17})
    >>> result.eligible
    False
    """

    eligible: bool
    criteria: tuple[CriterionResult, ...]

    @property
    def failures(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if not c.passed)


def evaluate_eligibility(protocol: Protocol, data: Mapping[str, Any]) -> EligibilityResult:
    """Check every inclusion and exclusion criterion of ``protocol`` against ``data``.

    An inclusion criterion passes when its rule holds; an exclusion criterion passes when
    its rule does not hold. Each result carries a plain-words reason.

    Raises
    ------
    EligibilityError
        A rule compares values that cannot be compared (for example text with a number).

    Examples
    --------
    >>> from pustula.protocol.load import parse_protocol
    >>> p = parse_protocol({"id": "S", "title": "t", "arms": [{"code": "A", "label": "a"}],
    ...     "visits": [{"code": "W0", "label": "Week 0", "day": 0, "baseline": True}],
    ...     "eligibility": {"inclusion": [{"id": "I1", "text": "Adult",
    ...         "rule": {"field": "age", "op": ">=", "value": 18}}]}})
    >>> evaluate_eligibility(p, {"age": 17}).failures[0].reason
    'Inclusion I1 not met: Age 17 years; inclusion needs ≥ 18 years'
    """
    results = [_check(c, "inclusion", data) for c in protocol.eligibility.inclusion]
    results += [_check(c, "exclusion", data) for c in protocol.eligibility.exclusion]
    return EligibilityResult(eligible=all(r.passed for r in results), criteria=tuple(results))


#: Where the facts name a test that was done without a result, or not done (by fact).
NOT_A_RESULT = "_not_a_result"
_NO_RESULT = {
    "not_done": "was not done",
    "indeterminate": "was indeterminate; repeat the test",
}


def _check(
    criterion: Criterion, kind: Literal["inclusion", "exclusion"], data: Mapping[str, Any]
) -> CriterionResult:
    title = f"{kind.capitalize()} {criterion.id}"
    try:
        met, why = _evaluate(criterion.rule, data, kind)
    except _NotRecordedError as missing:
        state = (data.get(NOT_A_RESULT) or {}).get(missing.field)
        said = _NO_RESULT.get(str(state), "is not recorded yet")
        reason = f"{title} not evaluable: {fact(missing.field).label} {said}"
        return CriterionResult(criterion.id, kind, criterion.text, None, False, reason)
    passed = met if kind == "inclusion" else not met
    if kind == "inclusion":
        reason = f"{title} {'met' if met else 'not met'}: {why}"
    else:
        reason = f"{title} {'applies' if met else 'does not apply'}: {why}"
    return CriterionResult(criterion.id, kind, criterion.text, met, passed, reason)


def _evaluate(rule: Rule, data: Mapping[str, Any], kind: str) -> tuple[bool, str]:
    if isinstance(rule, Condition):
        return _condition(rule, data, kind)
    if isinstance(rule, Not):
        met, why = _evaluate(rule.not_, data, kind)
        return not met, f"not ({why})"
    if isinstance(rule, AllOf):
        parts = [_evaluate(r, data, kind) for r in rule.all]
        return all(m for m, _ in parts), " and ".join(why for _, why in parts)
    parts = [_evaluate(r, data, kind) for r in rule.any]
    return any(m for m, _ in parts), " or ".join(why for _, why in parts)


def _condition(rule: Condition, data: Mapping[str, Any], kind: str) -> tuple[bool, str]:
    actual = _lookup(data, rule.field)
    expected = list(rule.value) if isinstance(rule.value, tuple) else rule.value
    try:
        met = bool(_COMPARE[rule.op](actual, expected))
    except TypeError as exc:
        raise EligibilityError(
            f"cannot compare `{rule.field}` ({actual!r}) with {expected!r} using {rule.op}"
        ) from exc
    label = fact(rule.field).label
    needs = f"{COMPARISONS[rule.op]}{describe_value(rule.field, expected)}"
    return met, f"{label} {describe_value(rule.field, actual)}; {kind} needs {needs}"


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or value.get(part) is None:
            raise _NotRecordedError(dotted)
        value = value[part]
    return value
