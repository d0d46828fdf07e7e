"""Turning submitted forms into values for the store, and errors into per-field messages.

No clinical rule lives here: values are only parsed; scoring and checks decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from pustula.errors import BulkScoringError, PustulaError, ScoringInputError
from pustula.scoring import PPPASI, get_instrument

__all__ = [
    "PPPASI_FIELDS",
    "REGIONS",
    "SIGNS",
    "assessment_items",
    "error_field",
    "field_errors",
    "number",
]

#: (code, label) pairs, from the instrument itself (pustula.scoring.pppasi)
REGIONS = tuple((r["code"], r["label"]) for r in PPPASI.metadata()["regions"])
SIGNS = tuple((s["code"], s["label"]) for s in PPPASI.metadata()["signs"])
PPPASI_FIELDS = tuple(f"{r}_{s}" for r, _ in REGIONS for s in (*dict(SIGNS), "area_pct"))
NRS = ("pain_nrs", "itch_nrs")
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


def assessment_items(form: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The instruments filled in on a visit form, each with its flat item values.

    PPPASI and PGA are always taken; pain/itch NRS and DLQI only when any of their fields
    was filled, because they are optional in the seed protocol.
    """
    items: dict[str, dict[str, Any]] = {
        "pppasi": {name: number(form.get(name, "")) for name in PPPASI_FIELDS},
        "pga": {"pga": number(form.get("pga", ""))},
    }
    for name in NRS:
        if form.get(name, "").strip():
            items[name] = {name: number(form[name])}
    if any(form.get(q, "").strip() for q in DLQI):
        items["dlqi"] = {q: (number(form[q]) if form.get(q, "").strip() else None) for q in DLQI}
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
    return f"{column.replace('_', ' ')} {reason}".replace(" pct ", " % ")


def error_field(exc: PustulaError) -> str:
    field = getattr(exc, "field", None)
    return str(field).replace(".", "_") if field else "_form"
