"""Read a protocol file (YAML or JSON), validate it, and cross-check its references."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pustula.errors import ProtocolError
from pustula.protocol.model import Protocol
from pustula.scoring import get_instrument
from pustula.scoring.registry import list_instruments

__all__ = ["load_protocol", "parse_protocol", "protocol_problems"]


def load_protocol(path: str | Path) -> Protocol:
    """Load and validate a protocol file.

    Raises
    ------
    ProtocolError
        The file cannot be read or parsed, or does not validate. The message starts with
        the file name and gives, for each problem, its path in the file and the reason.

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> protocol = load_protocol(demo_protocol_file())
    >>> [visit.code for visit in protocol.visits]
    ['W0', 'W2', 'W4', 'W12']
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProtocolError(f"{path}: cannot read the protocol file ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProtocolError(f"{path}: not valid YAML: {exc}") from exc
    return parse_protocol(data, source=str(path))


def parse_protocol(data: object, *, source: str = "<protocol>") -> Protocol:
    """Validate already-parsed protocol data (a mapping) and cross-check it.

    Examples
    --------
    >>> parse_protocol({"study": {"code": "X"}})
    Traceback (most recent call last):
    ...
    pustula.errors.ProtocolError: <protocol>: id: this field is missing; title: this field is
    missing; arms: this field is missing; visits: this field is missing; study: a protocol has
    no such field (a misspelling?)
    """
    protocol, problems = protocol_problems(data)
    if protocol is None:
        raise ProtocolError(f"{source}: " + "; ".join(_joined(p) for p in problems))
    return protocol


def protocol_problems(data: object) -> tuple[Protocol | None, list[tuple[str, str]]]:
    """The protocol, or None with each problem as (where in the file, what is wrong);
    ``where`` is a dotted path such as ``visits.2.window`` ("" for the whole file)."""
    if not isinstance(data, Mapping):
        return None, [("", "a protocol must be a mapping of keys to values")]
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        return None, [_located(e) for e in exc.errors()]
    problems = [_split(p) for p in _cross_check(protocol)]
    return (None, problems) if problems else (protocol, [])


#: What the validator's commonest refusals mean, in words a study's author uses.
_PLAIN = {
    "missing": "this field is missing",
    "extra_forbidden": "a protocol has no such field (a misspelling?)",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "date_parsing": "must be a date, YYYY-MM-DD",
    "date_from_datetime_parsing": "must be a date, YYYY-MM-DD",
    "mapping_type": "must be a set of fields (key: value)",
    "dict_type": "must be a set of fields (key: value)",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
}


def _located(error: Mapping[str, Any]) -> tuple[str, str]:
    where = ".".join(str(part) for part in error["loc"])
    kind, message = str(error.get("type", "")), str(error["msg"])
    if kind in _PLAIN:
        return where, _PLAIN[kind]
    if kind == "too_short":
        return where, "must not be empty"
    if kind == "literal_error":
        return where, message.replace("Input should be", "must be")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return where, message.replace("Input should be", "must be")
    return where, message.removeprefix("Value error, ")


def _split(problem: str) -> tuple[str, str]:
    where, sep, what = problem.partition(": ")
    if sep and " " not in where:
        return where, what
    return "", problem


def _joined(problem: tuple[str, str]) -> str:
    where, what = problem
    return f"{where}: {what}" if where else what


def _cross_check(protocol: Protocol) -> list[str]:
    problems: list[str] = []
    known_instruments = {i.name for i in list_instruments()}
    visit_codes = [v.code for v in protocol.visits]
    for code, n in Counter(visit_codes).items():
        if n > 1:
            problems.append(f"visits: code `{code}` is used {n} times")
    baselines = [v.code for v in protocol.visits if v.baseline]
    if len(baselines) != 1:
        problems.append(f"visits: exactly one visit must be the baseline; found {len(baselines)}")
    days = [v.day for v in protocol.visits]
    if days != sorted(days) or len(set(days)) != len(days):
        problems.append("visits: target days must increase from one visit to the next")
    for i, visit in enumerate(protocol.visits):
        for name in visit.instruments:
            if name not in known_instruments:
                known = ", ".join(sorted(known_instruments))
                problems.append(f"visits.{i}.instruments: unknown instrument `{name}` ({known})")
    ids = [c.id for c in (*protocol.eligibility.inclusion, *protocol.eligibility.exclusion)]
    ids += [e.id for e in protocol.endpoints] + [r.id for r in protocol.lab_rules]
    for ident, n in Counter(ids).items():
        if n > 1:
            problems.append(f"id `{ident}` is used {n} times")
    for i, endpoint in enumerate(protocol.endpoints):
        if endpoint.visit not in visit_codes:
            problems.append(f"endpoints.{i}.visit: `{endpoint.visit}` is not a visit code")
            continue
        visit = protocol.visit(endpoint.visit)
        if endpoint.instrument not in visit.instruments:
            problems.append(
                f"endpoints.{i}: {get_instrument(endpoint.instrument).name} is not due "
                f"at visit `{visit.code}`"
            )
        base = protocol.baseline_visit if baselines else None
        if base is not None and endpoint.instrument not in base.instruments:
            problems.append(f"endpoints.{i}: {endpoint.instrument} is not due at the baseline")
    return problems
