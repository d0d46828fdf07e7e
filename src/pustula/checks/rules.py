"""Data quality rules a monitor or data manager writes: a condition over one form's fields
that marks a record as a discrepancy when it holds (REDCap's Data Quality custom rules).

The language is a small part of Python's expression syntax, parsed with :mod:`ast` and
interpreted here, node by node; nothing is ever passed to ``eval``. It has:

- the form's field names, numbers, text in quotes, ``yes``/``no`` and ``date("2024-03-01")``;
- comparisons ``== != < <= > >=``, ``in`` and ``not in`` a list ``["a", "b"]``;
- ``and``, ``or``, ``not``, brackets, and ``+ - * /`` on numbers;
- ``missing(field)``, ``present(field)``, ``days(from, to)`` (whole days from one date to
  the other) and ``abs(x)``.

A comparison with a missing value is false, so a rule never flags a record for a value it
does not have; ask for ``missing(field)`` to find those.

>>> rule = parse_rule('serious == yes and grade < 3', {"serious": "bool", "grade": "number"})
>>> rule.holds({"serious": True, "grade": 2}), rule.holds({"serious": True, "grade": None})
(True, False)
>>> parse_rule("__import__('os')", {})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
pustula.errors.DataValidationError: condition: __import__ is not a function rules can use ...
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pustula.errors import DataValidationError

__all__ = ["FUNCTIONS", "Rule", "parse_rule"]

#: Longest condition, and most parts in it: a rule is a sentence, not a program.
MAX_LENGTH = 500
MAX_NODES = 120
FUNCTIONS = ("missing", "present", "days", "abs", "date")
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}  # fmt: skip
_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}  # fmt: skip
_WORDS = {"yes": True, "no": False}


class _MissingValueError(Exception):
    """A value the rule needs is not recorded: the comparison is false."""


def _bad(message: str) -> DataValidationError:
    return DataValidationError(f"condition: {message}", field="condition")


@dataclass(frozen=True)
class Rule:
    """A parsed condition, and the fields it reads."""

    text: str
    fields: frozenset[str]
    _tree: ast.expr

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the record ``values`` is a discrepancy under this rule."""
        try:
            return bool(_Evaluator(values).truth(self._tree))
        except (_MissingValueError, TypeError, ZeroDivisionError, OverflowError):
            # a missing value, or values that cannot be compared (text with a number)
            return False


def parse_rule(text: str, fields: Mapping[str, str]) -> Rule:
    """Parse ``text`` over ``fields`` (name → kind: number, text, date, bool, list), or
    raise one :class:`DataValidationError` on ``condition`` that says what is wrong."""
    source = text.strip()
    if not source:
        raise _bad("is required")
    if len(source) > MAX_LENGTH:
        raise _bad(f"is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as exc:
        where = f" near character {exc.offset}" if exc.offset else ""
        raise _bad(f"is not a condition Pustula can read{where}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise _bad(f"has more than {MAX_NODES} parts; split it into several rules")
    used: set[str] = set()
    for node in nodes:
        _check_node(node, fields, used)
    return Rule(source, frozenset(used), tree)


_ALLOWED = (
    ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare, ast.BinOp,
    ast.Name, ast.Load, ast.Constant, ast.Call, ast.List, ast.Tuple,
    *_COMPARE, *_ARITHMETIC,
)  # fmt: skip


def _check_call(node: ast.Call) -> None:
    name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
    if name not in FUNCTIONS:
        raise _bad(f"{name} is not a function rules can use ({', '.join(FUNCTIONS)})")
    if node.keywords:
        raise _bad(f"{name}() takes its values in order, without names")
    wanted = {"days": 2, "date": 1}.get(name, 1)
    if len(node.args) != wanted:
        raise _bad(f"{name}() takes {wanted} value{'s' if wanted > 1 else ''}")
    if name in ("missing", "present") and not isinstance(node.args[0], ast.Name):
        raise _bad(f"{name}() takes a field name")
    if name == "date":
        arg = node.args[0]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise _bad('date() takes a date in quotes, as date("2024-03-01")')
        try:
            date.fromisoformat(arg.value)
        except ValueError:
            raise _bad(f"{arg.value} is not a date as YYYY-MM-DD") from None


def _check_node(node: ast.AST, fields: Mapping[str, str], used: set[str]) -> None:
    if isinstance(node, ast.Call):
        _check_call(node)
        return
    if isinstance(node, ast.Name):
        if node.id in _WORDS or node.id in FUNCTIONS:
            return
        if node.id not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise _bad(f"{node.id} is not a field of this form (its fields: {known})")
        used.add(node.id)
        return
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, int | float | str) or isinstance(node.value, bool):
            raise _bad(f"{ast.unparse(node)} is not a number or a text in quotes")
        if isinstance(node.value, int | float) and abs(node.value) > 1e12:
            raise _bad("numbers in rules are at most a million million")
        return
    if not isinstance(node, _ALLOWED):
        shown = ast.unparse(node) if isinstance(node, ast.expr) else "this operator"
        raise _bad(f"{shown} is not part of the rule language")


class _Evaluator:
    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def truth(self, node: ast.expr) -> Any:
        if isinstance(node, ast.BoolOp):
            parts = [self._part(v) for v in node.values]
            return all(parts) if isinstance(node.op, ast.And) else any(parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not self._part(node.operand)
        return self.value(node)

    def _part(self, node: ast.expr) -> bool:
        # within and/or/not, a missing value makes its own part false, not the whole rule
        try:
            return bool(self.truth(node))
        except (_MissingValueError, TypeError):
            return False

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in _WORDS:
                return _WORDS[node.id]
            found = self.values.get(node.id)
            if found is None or found == "":
                raise _MissingValueError(node.id)
            return found
        if isinstance(node, ast.List | ast.Tuple):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.UnaryOp):
            inner = self.truth(node.operand)
            return -inner if isinstance(node.op, ast.USub) else not inner
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left), self.value(node.right)
            if isinstance(left, date) and isinstance(right, date) and isinstance(node.op, ast.Sub):
                return (left - right).days
            if not all(isinstance(v, int | float) and not isinstance(v, bool)
                       for v in (left, right)):  # fmt: skip
                raise TypeError("arithmetic is on numbers only")  # never "text" * n
            return _ARITHMETIC[type(node.op)](left, right)
        if isinstance(node, ast.Compare):
            left = self.value(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.value(comparator)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.Call):
            return self._call(node)
        return self.truth(node)

    def _call(self, node: ast.Call) -> Any:
        name = node.func.id  # type: ignore[attr-defined]
        if name in ("missing", "present"):
            field = node.args[0].id  # type: ignore[attr-defined]
            gone = self.values.get(field) in (None, "", [])
            return gone if name == "missing" else not gone
        if name == "date":
            return date.fromisoformat(node.args[0].value)  # type: ignore[attr-defined]
        if name == "days":
            start, end = self.value(node.args[0]), self.value(node.args[1])
            return (end - start).days
        return abs(self.value(node.args[0]))
