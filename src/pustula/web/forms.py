"""Turning submitted forms into values for the store, and errors into per-field messages.

No clinical rule lives here: values are only parsed; scoring and checks decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from pustula.errors import BulkScoringError, ScoringInputError
from pustula.scoring import PPPASI, get_instrument

__all__ = [
    "PPPASI_FIELDS",
    "REGIONS",
    "SIGNS",
    "assessment_items",
    "field_errors",
    "number",
]

#: (code, label) pairs, from the instrument itself (pustula.scoring.pppasi)
REGIONS = tuple((r["code"], r["label"]) for r in PPPASI.metadata()["regions"])
SIGNS = tuple((s["code"], s["label"]) for s in PPPASI.metadata()["signs"])
PPPASI_FIELDS = tuple(f"{r}_{s}" for r, _ in REGIONS for s in (*dict(SIGNS), "area_pct"))
DLQI = tuple(f"dlqi_q{i}" for i in range(1, 11))


def number(text: str) -> Any:
    """A form value as int or float when it is one, else the text (scoring names the error)."""
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        try:
            return float(stripped)
        except ValueError:
            return stripped


def assessment_items(
    form: Mapping[str, str], *, collected: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The instruments of a visit form, each with its flat item values.

    ``collected`` are the instruments the protocol's visit collects: they are always taken
    (an empty field is then an error the scorer names). The others on the form are taken
    only when any of their fields was filled.
    """
    fields = {
        "pppasi": PPPASI_FIELDS,
        "pga": ("pga",),
        "pain_nrs": ("pain_nrs",),
        "itch_nrs": ("itch_nrs",),
        "dlqi": DLQI,
    }
    items: dict[str, dict[str, Any]] = {}
    for instrument, names in fields.items():
        if instrument in collected or any(form.get(n, "").strip() for n in names):
            blank_is_missing = instrument == "dlqi"  # the DLQI has a missing-item rule
            items[instrument] = {
                n: None
                if blank_is_missing and not form.get(n, "").strip()
                else number(form.get(n, ""))
                for n in names
            }
    return items


def field_errors(items: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Every invalid field of every instrument, named as the form names it."""
    errors: dict[str, str] = {}
    for instrument, values in items.items():
        try:
            get_instrument(instrument).score_frame(pd.DataFrame([dict(values)]))
        except BulkScoringError as exc:
            for row in exc.errors:
                errors.setdefault(row.column, _plain(row.column, row.reason))
        except ScoringInputError as exc:
            errors.setdefault((exc.field or instrument).replace(".", "_"), exc.message)
    return errors


def _plain(column: str, reason: str) -> str:
    """The scorer's reason for one item, shown next to that item (no column names)."""
    if " or one of " in reason:
        return "choose one of the answers"
    if reason.startswith("is missing; it must be "):
        return "is required: " + reason.removeprefix("is missing; it must be ")
    return reason.replace("'", "")
