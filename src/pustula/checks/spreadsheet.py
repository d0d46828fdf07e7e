"""Text cells that a spreadsheet would run as a formula (CSV injection), made inert.

An adverse event term, a query or a reason typed as ``=HYPERLINK("http://…")`` or
``@SUM(A1)`` is data; opened in Excel or LibreOffice from a CSV file it becomes a formula
that can fetch, leak or run things. OWASP's advice ("CSV Injection"): a cell that begins
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a single quote in front,
which spreadsheets show as text and do not evaluate.

- :func:`inert` is for files people open (the audit trail, queries, analysis tables,
  scored files). A number is never changed: ``-3`` in a numeric column stays ``-3``.
- :func:`escape_cell` and :func:`unescape_cell` are for the bundle, which must also read
  back exactly: a leading quote is added to a dangerous cell *and* to a cell that already
  begins with a quote, and exactly one leading quote is removed on reading, so every text
  survives the round trip unchanged.

>>> inert("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> inert("-3"), inert(-3), inert("Nasopharyngitis")
("'-3", -3, 'Nasopharyngitis')
>>> unescape_cell(escape_cell("'quoted")), unescape_cell(escape_cell("@SUM(A1)"))
("'quoted", '@SUM(A1)')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported by whoever has a frame; the CLI starts without it
    import pandas as pd

__all__ = ["escape_cell", "inert", "inert_frame", "unescape_cell"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """``value`` as a spreadsheet shows it without evaluating it; non-text unchanged."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are :func:`inert` (numbers and dates as they are)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(inert)
    return out


def escape_cell(text: str) -> str:
    """A text cell for the bundle: inert, and reversible by :func:`unescape_cell`."""
    if text.startswith((*_TRIGGERS, "'")):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """The text that :func:`escape_cell` wrote."""
    return text[1:] if text.startswith("'") else text
