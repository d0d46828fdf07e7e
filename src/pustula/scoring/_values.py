"""Validation of single item values, with Pustula's one message format.

The format is ``<what> must be <allowed>; got <value>``, so that the field, the value
received and what is allowed are always named, and nothing is clipped or rounded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from numbers import Integral, Real

from pustula.errors import ScoringInputError

__all__ = ["check_keys", "is_missing", "require_number", "require_whole"]


def is_missing(value: object) -> bool:
    """Whether an item value means "not answered": absent, None, NaN or blank text.

    Single and bulk scoring share this rule, so an empty CSV cell and an empty form field
    are the same missing item.

    >>> [is_missing(v) for v in (None, float("nan"), "", "  ", 0, "0")]
    [True, True, True, True, False, False]
    """
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, Real) and not isinstance(value, bool) and math.isnan(float(value))


def _shown(value: object) -> str:
    if isinstance(value, str):
        return f"{value!r} (text)"
    if value is None:
        return "nothing (the value is missing)"
    return repr(value)


def require_whole(value: object, *, what: str, field: str, low: int, high: int) -> int:
    """Return ``value`` as an int if it is a whole number in ``[low, high]``.

    A float such as ``2.0`` is accepted because spreadsheets and JSON produce it for whole
    numbers; ``2.5``, NaN, text and booleans are refused.
    """
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, Integral):
        number = int(value)
    elif isinstance(value, Real) and math.isfinite(float(value)) and float(value).is_integer():
        number = int(float(value))
    if number is None or not low <= number <= high:
        raise ScoringInputError(
            f"{what} must be a whole number from {low} to {high}; got {_shown(value)}",
            field=field,
            value=value,
        )
    return number


def require_number(value: object, *, what: str, field: str, low: float, high: float) -> float:
    """Return ``value`` as a float if it is a finite number in ``[low, high]``."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, Real)
        and math.isfinite(float(value))
        and low <= float(value) <= high
    )
    if not ok:
        raise ScoringInputError(
            f"{what} must be a number from {low:g} to {high:g}; got {_shown(value)}",
            field=field,
            value=value,
        )
    return float(value)  # type: ignore[arg-type]


def check_keys(
    values: Mapping[str, object],
    *,
    allowed: Set[str],
    required: Set[str],
    where: str,
) -> None:
    """Refuse unknown keys (never guess a misspelling) and report missing ones."""
    if not isinstance(values, Mapping):
        raise ScoringInputError(
            f"{where} must be a mapping of field names to values; got {type(values).__name__}",
            field=where,
            value=values,
        )
    unknown = sorted(str(k) for k in values if k not in allowed)
    if unknown:
        raise ScoringInputError(
            f"{where} has unknown field(s) {', '.join(unknown)}; "
            f"allowed fields are {', '.join(sorted(allowed))}",
            field=unknown[0],
            value=values[unknown[0]],
        )
    missing = sorted(k for k in required if k not in values)
    if missing:
        raise ScoringInputError(
            f"{where} is missing field(s) {', '.join(missing)}",
            field=missing[0],
        )
