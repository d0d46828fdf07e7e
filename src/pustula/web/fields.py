"""Form fields: how each is labelled, offered and parsed, with every error at once.

A field with clinical meaning starts empty; a required one left empty is an error next
to it, never a value chosen for the user. Messages name the field by its label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.datastructures import FormData

from pustula.checks.vocabulary import CODELISTS, field_label
from pustula.errors import LockedError, PustulaError

__all__ = [
    "Field",
    "FormValues",
    "choices",
    "error_messages",
    "form_values",
    "parse_fields",
]

#: What was typed, as the page shows it again: one text per field, or a list (checkboxes).
FormValues = dict[str, str | list[str]]


@dataclass(frozen=True)
class Field:
    name: str
    label: str = ""
    #: text, textarea, date, number, whole, select, radio, checkboxes, yes_no
    kind: str = "text"
    options: tuple[tuple[str, str], ...] = ()
    required: bool = False
    hint: str = ""

    @property
    def text(self) -> str:
        return self.label or field_label(self.name)


def choices(codelist: str, only: Iterable[str] | None = None) -> tuple[tuple[str, str], ...]:
    """(code, label) pairs of a coded list from the one table of labels."""
    entries = CODELISTS[codelist]
    keep = list(entries) if only is None else list(only)
    return tuple((str(code), entries[code]) for code in keep)


def form_values(form: FormData, fields: Sequence[Field] = ()) -> FormValues:
    """The submitted form; checkbox groups as lists, everything else as text."""
    lists = {f.name for f in fields if f.kind == "checkboxes"}
    values: FormValues = {}
    for key in form:
        if key == "csrf":
            continue
        if key in lists:
            values[key] = [str(v) for v in form.getlist(key)]
        else:
            values[key] = str(form.get(key) or "")
    return values


def _one(values: Mapping[str, Any], name: str) -> str:
    raw = values.get(name, "")
    return raw.strip() if isinstance(raw, str) else ""


def _parse(field: Field, text: str) -> Any:
    """A non-empty value in the field's type, or ValueError with the plain reason."""
    if field.kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError("enter a date as YYYY-MM-DD") from None
    if field.kind in ("number", "whole"):
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise ValueError("enter a number") from None
        if field.kind == "whole":
            if not number.is_integer():
                raise ValueError("enter a whole number")
            return int(number)
        return number
    if field.kind == "yes_no":
        if text not in ("yes", "no"):
            raise ValueError("answer yes or no")
        return text == "yes"
    if field.options and text not in dict(field.options):
        raise ValueError("choose one of the listed options")
    return text


def parse_fields(
    fields: Sequence[Field], values: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Each field's typed value (empty optional ones left out) and every error at once."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        if field.kind == "checkboxes":
            raw = values.get(field.name, [])
            picked = [raw] if isinstance(raw, str) else list(raw)
            unknown = [p for p in picked if p not in dict(field.options)]
            if unknown:
                errors[field.name] = "choose from the listed options"
            elif field.required and not picked:
                errors[field.name] = "choose at least one"
            data[field.name] = picked
            continue
        text = _one(values, field.name)
        if not text:
            if field.required:
                errors[field.name] = "is required" if field.kind != "radio" else "choose one"
            continue
        try:
            data[field.name] = _parse(field, text)
        except ValueError as exc:
            errors[field.name] = str(exc)
    return data, errors


def error_messages(exc: PustulaError, names: Iterable[str]) -> dict[str, str]:
    """Every field error the store reported, keyed by the form's field names.

    An error on a field the form does not show is kept under ``_form`` with the field's
    label, so that nothing the server said is lost; a lock is ``_locked``.
    """
    if isinstance(exc, LockedError):  # the whole form is refused: said above it (423)
        return {"_locked": exc.message}
    shown = set(names)
    found: Mapping[str, str] = getattr(exc, "errors", None) or {
        str(getattr(exc, "field", None) or "_form"): exc.message
    }
    errors: dict[str, str] = {}
    for where, message in found.items():
        key = _form_name(where, shown)
        text = _without_field(message, where)
        if key == "_form" and where != "_form":
            text = f"{field_label(where)}: {text}"
        errors[key] = f"{errors[key]} {text}" if key in errors else text
    return errors


def _form_name(where: str, shown: set[str]) -> str:
    candidates = [where, where.replace(".", "_"), where.split(".")[-1], where.split(".")[0]]
    if where.startswith("labs."):
        candidates.insert(0, "lab_" + where.removeprefix("labs."))
    if where.startswith("screening."):
        candidates.insert(0, where.removeprefix("screening."))
    return next((c for c in candidates if c in shown), "_form")


def _without_field(message: str, where: str) -> str:
    for prefix in (where, where.split(".")[-1], where.replace(".", "_")):
        if message.startswith(f"{prefix}: "):
            return message.removeprefix(f"{prefix}: ")
    return message
