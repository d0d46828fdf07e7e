"""Which cells a row of a REDCap records export may fill.

REDCap writes one row per record and event, and one per instance of a repeating
instrument. A row holds the fields of its event's forms (the non-repeating ones), or of
its repeating instrument only; every form adds a ``{form}_complete`` status column, and a
checkbox field is a column per choice (``field___code``) holding ``1`` (ticked) or ``0``.
A value elsewhere, say an adverse event term on a lab row, or ``2`` in a checkbox column,
would be dropped without a word by a reader that takes only the fields it expects, so the
import refuses it and names the cell.

Columns the data dictionary does not know are left alone: a REDCap project may carry
fields of its own that the mapping does not bring over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pustula.checks.vocabulary import CODELISTS
from pustula.errors import DataValidationError
from pustula.interop.redcap import (
    PRIOR_FORM,
    REPEATING,
    data_dictionary,
    event_name,
    instrument_events,
)
from pustula.protocol import Protocol

__all__ = ["CHECKBOX_CODELISTS", "RowLayout"]

#: Each checkbox field of the dictionary and the code list of its choices.
CHECKBOX_CODELISTS = {"triggers": "trigger", "comorbidities": "comorbidity",
                      "ae_serious_criteria": "serious_criterion"}  # fmt: skip
_CHECKBOX_VALUES = frozenset({"0", "1"})


@dataclass(frozen=True)
class RowLayout:
    """The columns of each form, and the forms of each visit's event."""

    #: column -> the form it belongs to
    forms: Mapping[str, str]
    #: every ``field___code`` column
    checkboxes: frozenset[str]
    #: form -> its columns
    columns: Mapping[str, frozenset[str]]
    #: visit code -> the non-repeating forms its event collects
    event_forms: Mapping[str, tuple[str, ...]]

    @classmethod
    def for_protocol(cls, protocol: Protocol) -> RowLayout:
        forms: dict[str, str] = {}
        checkboxes: set[str] = set()
        for row in data_dictionary(protocol):
            if row.name == "record_id":
                continue
            forms[f"{row.form}_complete"] = row.form
            if row.kind == "checkbox":
                boxes = [f"{row.name}___{c}" for c in CODELISTS[CHECKBOX_CODELISTS[row.name]]]
                checkboxes.update(boxes)
                forms.update(dict.fromkeys(boxes, row.form))
            else:
                forms[row.name] = row.form
        columns: dict[str, set[str]] = {}
        for name, form in forms.items():
            columns.setdefault(form, set()).add(name)
        by_event: dict[str, list[str]] = {}
        for pair in instrument_events(protocol):
            if pair["form"] not in (PRIOR_FORM, *REPEATING):
                by_event.setdefault(pair["unique_event_name"], []).append(pair["form"])
        event_forms = {v.code: tuple(by_event.get(event_name(v.label), ()))
                       for v in protocol.visits}  # fmt: skip
        return cls(forms, frozenset(checkboxes),
                   {f: frozenset(c) for f, c in columns.items()}, event_forms)  # fmt: skip

    def check(self, row: Mapping[str, str], *, visit: str, instrument: str, where: str) -> None:
        """Refuse a filled cell outside the row's forms, or a checkbox cell not 0 or 1."""
        own = (instrument,) if instrument else self.event_forms.get(visit, ())
        for name, value in row.items():
            form = self.forms.get(name)
            if form is None:
                continue
            if form not in own:
                holds = f"the {instrument} form" if instrument else "this event's forms"
                raise DataValidationError(
                    f"{where}, field {name}: the field belongs to the form `{form}`, which "
                    f"this row does not hold (it holds {holds}); its value `{value}` would "
                    "be lost. Move it to the row of its form, or leave the cell empty"
                )
            if name in self.checkboxes and value not in _CHECKBOX_VALUES:
                raise DataValidationError(
                    f"{where}, field {name}: a checkbox column holds 1 (ticked) or 0 (not "
                    f"ticked); got `{value}`"
                )
