"""A protocol file's problems by line and field, for the person who uploads it."""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from pustula.protocol.load import protocol_problems
from pustula.protocol.model import Protocol

__all__ = ["ProtocolProblem", "check_protocol_text"]

#: A protocol is a few kilobytes; a larger upload is not one.
MAX_PROTOCOL_BYTES = 512_000


@dataclass(frozen=True)
class ProtocolProblem:
    """One thing wrong in a protocol file: the line (1-based; None for the whole file),
    the field as a dotted path (``visits.2.window``), and what is wrong."""

    line: int | None
    field: str
    message: str


def check_protocol_text(text: str) -> tuple[Protocol | None, list[ProtocolProblem]]:
    """The protocol in ``text`` (YAML or JSON), or None and every problem with its line.

    Examples
    --------
    >>> text = "id: X\\ntitle: A study\\narms: []\\nvisits:\\n  - code: W0\\n    day: zero\\n"
    >>> protocol, problems = check_protocol_text(text)
    >>> [(p.line, p.field, p.message) for p in problems if p.field.startswith("visits.")]
    [(5, 'visits.0.label', 'this field is missing'), (6, 'visits.0.day', 'must be a whole number')]
    """
    if len(text.encode("utf-8")) > MAX_PROTOCOL_BYTES:
        return None, [ProtocolProblem(None, "", "the file is larger than a protocol can be")]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        what = getattr(exc, "problem", None) or "the file is not valid YAML"
        return None, [ProtocolProblem(line, "", f"not valid YAML: {what}")]
    protocol, problems = protocol_problems(data)
    found = [ProtocolProblem(_line(root, where), where, what) for where, what in problems]
    return protocol, found


def _line(root: Node | None, where: str) -> int | None:
    """The line of the deepest part of ``where`` that the file has (a missing field: the
    line of the part that should hold it)."""
    if root is None:
        return None
    node, line = root, root.start_mark.line + 1
    for part in where.split(".") if where else []:
        if isinstance(node, MappingNode):
            entry = next((kv for kv in node.value if getattr(kv[0], "value", None) == part), None)
            if entry is None:
                break
            line, node = entry[0].start_mark.line + 1, entry[1]
        elif isinstance(node, SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line
