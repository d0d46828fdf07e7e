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

__all__ = ["load_protocol", "parse_protocol"]


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
    pustula.errors.ProtocolError: <protocol>: id: Field required; title: Field required; arms:
    Field required; visits: Field required; study: Extra inputs are not permitted
    """
    if not isinstance(data, Mapping):
        raise ProtocolError(f"{source}: a protocol must be a mapping of keys to values")
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(f"{source}: " + "; ".join(_describe(e) for e in exc.errors())) from exc
    problems = _cross_check(protocol)
    if problems:
        raise ProtocolError(f"{source}: " + "; ".join(problems))
    return protocol


def _describe(error: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    return f"{where}: {error['msg']}"


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
