"""A small evaluator of REDCap calculation syntax, written for the tests from REDCap's
documented rules (field references in brackets, ``if(c, a, b)``, ``sum()`` skipping
blanks, ``round(x, d)`` rounding half up, ``isblankormissingcode()``, ``=``/``<>``
comparisons, ``and``/``or``; arithmetic with a blank gives a blank). It shares no code
with :mod:`pustula.interop.redcap`, so that it checks the expressions independently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

TOKEN = re.compile(r"\s*(?:(\d+\.?\d*)|('[^']*')|\[([a-z0-9_]+)\]|(<>|<=|>=|[-+*/(),=<>])"
                   r"|([a-z_]+))")  # fmt: skip
BLANK = ""


def tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        m = TOKEN.match(text, pos)
        if not m:
            raise SyntaxError(f"cannot read {text[pos : pos + 20]!r}")
        number, string, field, op, word = m.groups()
        if number is not None:
            out.append(("num", number))
        elif string is not None:
            out.append(("str", string[1:-1]))
        elif field is not None:
            out.append(("field", field))
        elif op is not None:
            out.append(("op", op))
        else:
            out.append(("word", word))
        pos = m.end()
    return out


def _number(value: Any) -> float | None:
    if value == BLANK or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class Evaluator:
    def __init__(self, text: str, record: Mapping[str, Any]) -> None:
        self.toks = tokens(text)
        self.i = 0
        self.record = record

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise SyntaxError(f"expected {value}, got {tok[1]}")
        self.i += 1
        return tok

    def run(self) -> Any:
        value = self.expr()
        if self.peek() is not None:
            raise SyntaxError(f"left over: {self.toks[self.i :]}")
        return value()

    # each parse function returns a thunk, so that if() evaluates only its chosen branch
    def expr(self) -> Callable[[], Any]:
        left = self.conj()
        while self.peek() == ("word", "or"):
            self.take()
            a, b = left, self.conj()
            left = lambda a=a, b=b: bool(a()) or bool(b())  # noqa: E731
        return left

    def conj(self) -> Callable[[], Any]:
        left = self.cmp()
        while self.peek() == ("word", "and"):
            self.take()
            a, b = left, self.cmp()
            left = lambda a=a, b=b: bool(a()) and bool(b())  # noqa: E731
        return left

    def cmp(self) -> Callable[[], Any]:
        left = self.add()
        tok = self.peek()
        if tok and tok[0] == "op" and tok[1] in ("=", "<>", "<", "<=", ">", ">="):
            op = self.take()[1]
            right = self.add()
            return lambda: _compare(op, left(), right())
        return left

    def add(self) -> Callable[[], Any]:
        left = self.mul()
        while (tok := self.peek()) and tok[0] == "op" and tok[1] in "+-":
            op = self.take()[1]
            a, b = left, self.mul()
            left = lambda a=a, b=b, op=op: _arith(op, a(), b())  # noqa: E731
        return left

    def mul(self) -> Callable[[], Any]:
        left = self.unary()
        while (tok := self.peek()) and tok[0] == "op" and tok[1] in "*/":
            op = self.take()[1]
            a, b = left, self.unary()
            left = lambda a=a, b=b, op=op: _arith(op, a(), b())  # noqa: E731
        return left

    def unary(self) -> Callable[[], Any]:
        if self.peek() == ("op", "-"):
            self.take()
            inner = self.unary()
            return lambda: _arith("-", 0.0, inner())
        return self.primary()

    def primary(self) -> Callable[[], Any]:
        kind, value = self.take()
        if kind == "num":
            return lambda: float(value)
        if kind == "str":
            return lambda: value
        if kind == "field":
            raw = self.record.get(value)
            return lambda: BLANK if raw is None else raw
        if (kind, value) == ("op", "("):
            inner = self.expr()
            self.take(")")
            return inner
        if kind == "word":
            self.take("(")
            args = [self.expr()]
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.expr())
            self.take(")")
            return _function(value, args)
        raise SyntaxError(f"unexpected {value}")


def _compare(op: str, a: Any, b: Any) -> bool:
    x, y = _number(a), _number(b)
    if op in ("=", "<>"):
        same = (x == y) if x is not None and y is not None else str(a) == str(b)
        return same if op == "=" else not same
    if x is None or y is None:
        return False
    return x < y if op == "<" else x <= y if op == "<=" else x > y if op == ">" else x >= y


def _arith(op: str, a: Any, b: Any) -> Any:
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return BLANK
    if op == "/":
        return BLANK if y == 0 else x / y
    return x + y if op == "+" else x - y if op == "-" else x * y


def _function(name: str, args: list[Callable[[], Any]]) -> Callable[[], Any]:
    if name == "if":
        c, a, b = args
        return lambda: a() if c() else b()
    if name == "sum":
        return lambda: sum(n for f in args if (n := _number(f())) is not None)
    if name == "round":
        value, places = args

        def rounded() -> Any:
            x = _number(value())
            if x is None:
                return BLANK
            step = Decimal(1).scaleb(-int(_number(places()) or 0))
            return float(Decimal(repr(x)).quantize(step, rounding=ROUND_HALF_UP))

        return rounded
    if name == "isblankormissingcode":
        (value,) = args
        return lambda: value() == BLANK
    raise SyntaxError(f"unknown function {name}")


def evaluate(text: str, record: Mapping[str, Any]) -> Any:
    """The value of a REDCap expression for ``record`` ('' for a blank result)."""
    return Evaluator(text, record).run()
