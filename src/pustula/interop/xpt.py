"""SAS transport (XPT) version 5, the format FDA and PMDA take for CDISC datasets.

Version 5 allows names of up to 8 characters, labels of up to 40 and character values of
up to 200 bytes, in ASCII. Text is transliterated to ASCII (µ → u, ³ → 3, ≥ → >=) rather than
dropped, and anything over a limit is refused with the dataset, variable and row named.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyreadstat

from pustula.errors import DataValidationError

__all__ = ["ascii_column", "ascii_text", "read_xpt", "write_xpt"]

_REPLACE = {
    "≥": ">=",
    "≤": "<=",
    "µ": "u",
    "–": "-",
    "—": "-",
    "×": "x",
    "’": "'",
    "“": '"',
    "”": '"',
    "·": "-",
    "→": "->",
}
_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")


def ascii_text(text: str) -> str:
    if text.isascii():
        return text
    for old, new in _REPLACE.items():
        text = text.replace(old, new)
    folded = unicodedata.normalize("NFKD", text)
    return folded.encode("ascii", "ignore").decode("ascii")


def ascii_column(values: pd.Series) -> pd.Series:
    """A text column in ASCII, transliterating each distinct value once."""
    text = values.fillna("").astype(str)
    changed = {u: ascii_text(u) for u in text.unique() if not u.isascii()}
    return text.replace(changed) if changed else text


def write_xpt(
    frame: pd.DataFrame, path: Path, *, name: str, label: str, labels: Mapping[str, str]
) -> None:
    """Write one dataset as XPT v5 after checking every v5 limit."""
    where = f"{name}"
    if not _NAME.match(name):
        raise DataValidationError(f"{where}: a dataset name must be 1-8 letters or digits")
    out = frame.copy()
    formats = {}
    for column in out.columns:
        if not _NAME.match(column):
            raise DataValidationError(
                f"{where}.{column}: a variable name must be 1-8 letters, "
                "digits or _, starting with a letter"
            )
        text = ascii_text(labels.get(column, column))
        if len(text) > 40:
            raise DataValidationError(f"{where}.{column}: the label is over 40 characters")
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            # an ADaM date: numeric, days since 1960-01-01, shown as DATE9.; written as the
            # number so that a column of missing dates stays numeric
            days = (out[column] - pd.Timestamp("1960-01-01")).dt.days
            out[column] = days.astype(float)
            formats[column] = "DATE9."
        elif out[column].dtype == object:
            out[column] = ascii_column(out[column])
            if max(map(len, out[column].unique()), default=0) > 200:
                too_long = out[column].str.len() > 200
                row = int(too_long.to_numpy().nonzero()[0][0]) + 1
                raise DataValidationError(
                    f"{where}.{column}, row {row}: over 200 characters, the XPT v5 limit"
                )
    if len(ascii_text(label)) > 40:
        raise DataValidationError(f"{where}: the dataset label is over 40 characters")
    pyreadstat.write_xport(
        out,
        str(path),
        file_label=ascii_text(label),
        table_name=name,
        column_labels={c: ascii_text(labels.get(c, c)) for c in out.columns},
        file_format_version=5,
        variable_format=formats,
    )


def read_xpt(path: Path) -> tuple[pd.DataFrame, dict[str, str], str]:
    """A dataset back: its rows, variable labels and dataset label."""
    frame, meta = pyreadstat.read_xport(str(path))
    labels = {name: label or "" for name, label in meta.column_names_to_labels.items()}
    return frame, labels, meta.file_label or ""
