"""The visit form's instruments: choices with their descriptors, DLQI items by short name,
"not done" with a reason, and reading the submitted form into items per instrument.

The DLQI's full wording is copyrighted (Cardiff University): the form shows the CDISC
short test names; a licensed site can load its full wording from a file
(``PUSTULA_DLQI_WORDING_FILE``, JSON or YAML mapping ``dlqi_q1`` … ``dlqi_q10`` to text).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pustula.checks.vocabulary import CODELISTS, DLQI_ITEMS
from pustula.errors import ConfigurationError
from pustula.scoring import get_instrument
from pustula.web.fields import choices
from pustula.web.forms import assessment_items, field_errors

__all__ = [
    "INSTRUMENTS",
    "DlqiItem",
    "dlqi_items",
    "load_dlqi_wording",
    "read_visit_form",
]

#: The instruments a visit form offers, in the order a visit collects them.
INSTRUMENTS = ("pppasi", "pga", "pain_nrs", "itch_nrs", "dlqi")
SEVERITY = choices("pppasi_severity")
PGA = choices("pga")


@dataclass(frozen=True)
class DlqiItem:
    name: str
    number: int
    short: str
    full: str | None
    options: tuple[tuple[str, str], ...]


def _answers(name: str) -> tuple[tuple[str, str], ...]:
    accepted = next(
        f["labels"] or {} for f in get_instrument("dlqi").metadata()["fields"] if f["name"] == name
    )
    if "yes" in accepted:  # item 7: "yes" (prevented work or study) scores 3
        base: list[tuple[str, str]] = [("yes", "Yes (prevented working or studying)")]
        base += [(v, f"No: {t.lower()}") for v, t in CODELISTS["dlqi_answer"].items() if v != "3"]
    else:
        base = list(CODELISTS["dlqi_answer"].items())
    if "not_relevant" in accepted:
        base.append(("not_relevant", "Not relevant"))
    return tuple(base)


def dlqi_items(wording: Mapping[str, str]) -> tuple[DlqiItem, ...]:
    return tuple(
        DlqiItem(name, i, short, wording.get(name), _answers(name))
        for i, (name, short) in enumerate(DLQI_ITEMS.items(), start=1)
    )


@functools.cache
def load_dlqi_wording(path: str | None) -> dict[str, str]:
    """A licensed site's full DLQI wording, or no wording (short names only)."""
    if not path:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"the DLQI wording file {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or set(data) - set(DLQI_ITEMS):
        raise ConfigurationError(
            f"the DLQI wording file {path} must map dlqi_q1 … dlqi_q10 to their text"
        )
    return {str(k): str(v) for k, v in data.items()}


def read_visit_form(
    form: Mapping[str, str], *, collected: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, str], dict[str, str]]:
    """(items per instrument, reasons of instruments not done, errors by field).

    An instrument marked not done needs its reason and is not scored; the ones the
    protocol's visit collects are otherwise required; the others are taken when filled.
    """
    not_done: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in INSTRUMENTS:
        if form.get(f"{name}_not_done"):
            reason = form.get(f"{name}_not_done_reason", "").strip()
            if reason:
                not_done[name] = reason
            else:
                errors[f"{name}_not_done_reason"] = "say why it was not done"
    items = assessment_items(form, collected=[c for c in collected if c not in not_done])
    items = {k: v for k, v in items.items() if k not in not_done}
    errors |= field_errors(items)
    return items, not_done, errors
