"""Audit entries as people read them: "Right sole pustules: 3 → 2", with who, when, why.

The audit trail keeps values as JSON; this turns each entry into labelled changes, one
per field (and one per item of an assessment's item values), with coded values in words.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pustula.checks.vocabulary import field_label, label, labels
from pustula.store.audit.chain import CASEBOOK, casebook_counts
from pustula.store.monitoring.captions import Caption

__all__ = [
    "ACTIONS", "TABLES", "Change", "Entry", "Names", "grouped", "readable", "record_name", "shown",
]  # fmt: skip

TABLES = {
    "study": "Study", "site": "Site", "subject": "Subject", "baseline": "Baseline",
    "eligibility_result": "Eligibility criterion", "prior_therapy": "Prior therapy",
    "exposure": "Study drug", "exposure_interruption": "Study drug interruption",
    "visit": "Visit", "assessment": "Assessment", "adverse_event": "Adverse event",
    "lab": "Lab value", "con_med": "Medication", "app_user": "User",
    "photograph": "Photograph", "diary_entry": "Diary day",
    "data_query": "Data query", "query_message": "Query message",
}  # fmt: skip
ACTIONS = {"insert": "Created", "update": "Changed", "remove": "Removed", "import": "Imported",
           CASEBOOK: "Imported with its casebook"}  # fmt: skip

#: The coded list a field's values come from (pustula.checks.vocabulary).
_CODED = {
    "sex": "sex", "smoking": "smoking", "triggers": "trigger", "comorbidities": "comorbidity",
    "category": "prior_category", "response": "prior_response", "grade": "grade",
    "serious_criteria": "serious_criterion", "relatedness": "relatedness",
    "action_taken": "action_taken", "outcome": "outcome", "window_status": "window_status",
    "test": "lab_test", "unit": "unit", "instrument": "instrument", "role": "role",
}  # fmt: skip
_STATUS = {"subject": "subject_status", "visit": "visit_status"}
#: Columns that say nothing to a reader (derived bookkeeping of a save).
_QUIET = {"instrument_version", "subscores", "warnings", "alerts", "updated_at", "updated_by",
          "id", "version", "created_at", "created_by", "deleted_at"}  # fmt: skip
_NAMES = {"total": "Total score", "band": "Severity band", "deleted_at": "Removed"}


@dataclass(frozen=True)
class Names:
    """What entries are told with: records' captions (pustula.store.monitoring.captions) and the
    protocol's visit labels, by visit code."""

    records: Mapping[tuple[str, int], Caption] = dataclasses.field(default_factory=dict)
    visits: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def record(self, table: str, record_id: int) -> str:
        """The record in words, by its caption where it has one."""
        caption = self.records.get((table, record_id))
        return record_name(table, record_id, caption.text if caption else "")

    def subject(self, table: str, record_id: int) -> str:
        caption = self.records.get((table, record_id))
        return (caption.subject or "") if caption else ""


def record_name(table: str, record_id: int, caption: str) -> str:
    """The kind of record and its caption ("Adverse event: Itchy rash, from 2024-05-02"),
    or its number where there is no caption."""
    kind = TABLES.get(table, field_label(table))
    return f"{kind}: {caption}" if caption else f"{kind} {record_id}"


def _name(field: str) -> str:
    return _NAMES.get(field) or field_label(field)


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class Entry:
    id: int
    at: str
    user: str
    action: str
    record: str
    table: str
    record_id: int | None
    reason: str
    changes: tuple[Change, ...]
    #: the code of the subject the record belongs to ("" when none, or not known)
    subject: str = ""

    @property
    def summary(self) -> str:
        return "; ".join(
            f"{c.label}: {c.old} → {c.new}" if c.old else f"{c.label}: {c.new}"
            for c in self.changes
        )


def _load(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def shown(table: str, field: str, value: Any) -> str:
    """A stored value as a page shows it: labels for codes, Yes/No, whole numbers."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    codelist = _STATUS.get(table) if field == "status" else _CODED.get(field)
    if field == "sites" and value == ["*"]:
        return "All sites"
    if isinstance(value, list):
        return labels(codelist, value) if codelist else ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer() and field != "total":
        value = int(value)  # a total keeps its decimal, as the instrument prints it
    if isinstance(value, dict):
        return ", ".join(f"{field_label(k)} {shown(table, k, v)}" for k, v in value.items())
    return label(codelist, value) if codelist else str(value).replace("T", " ")[:200]


def _diff(table: str, field: str, old: Any, new: Any) -> Iterable[Change]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in dict.fromkeys([*old, *new]):
            if old.get(key) != new.get(key):
                yield Change(
                    field_label(key),
                    shown(table, key, old.get(key)),
                    shown(table, key, new.get(key)),
                )
        return
    yield Change(_name(field), shown(table, field, old), shown(table, field, new))


def exported_value(row: Mapping[str, Any], side: str) -> Any:
    """An audit entry's old or new value as the audit CSV writes it: a study's protocol
    text as its SHA-256 (the protocol names a blinded trial's arms, and is kept in full in
    the study record that the trail verifies).

    >>> exported_value({"table": "study", "field": "protocol_yaml", "new": '"id: S"'}, "new")
    'protocol text, SHA-256 5fd8320903d7…'
    """
    raw = row[side]
    if row["table"] not in ("study", "protocol_version") or raw is None:
        return raw
    value = _load(raw)
    if row["field"] == "protocol_yaml":
        return _protocol_digest(value)
    if isinstance(value, Mapping) and "protocol_yaml" in value:
        return json.dumps({**value, "protocol_yaml": _protocol_digest(value["protocol_yaml"])})
    return raw


def _protocol_digest(text: Any) -> str:
    digest = hashlib.sha256(str(text).encode("utf-8")).hexdigest()
    return f"protocol text, SHA-256 {digest[:12]}…"


def readable(row: Mapping[str, Any], names: Names | None = None) -> Entry:
    """One audit entry in words."""
    names = names or Names()
    table, field = row["table"], row["field"]
    old, new = _load(row["old"]), _load(row["new"])
    if row["action"] == CASEBOOK:
        counts = Counter(casebook_counts(row["new"]))
        changes = tuple(Change(TABLES.get(name, field_label(name)), "", f"{n} created")
                        for name, n in counts.items())  # fmt: skip
    elif row["action"] == "insert" and isinstance(new, Mapping):
        values = {k: names.visits.get(v, v) if k == "visit_code" else v for k, v in new.items()}
        changes = tuple(
            Change(_name(k), "", shown(table, k, v))
            for k, v in values.items()
            if k not in _QUIET and not k.endswith("_id") and shown(table, k, v)
        )
    elif field in _QUIET:
        changes = ()
    elif row["action"] == "remove":
        changes = (Change("Record", "", "removed"),)
    else:
        changes = tuple(_diff(table, field or "", old, new))
    at = str(row["at"])[:19].replace("T", " ") + " UTC"
    record_id = row["record"]
    if record_id is None:
        record, subject = TABLES.get(table, field_label(table)), ""
    else:
        record, subject = names.record(table, record_id), names.subject(table, record_id)
    return Entry(
        row["id"], at, row["user"], ACTIONS.get(row["action"], row["action"]), record, table,
        record_id, row["reason"] or "", changes, subject,
    )  # fmt: skip


def grouped(rows: Iterable[Mapping[str, Any]], names: Names | None = None) -> list[Entry]:
    """Entries in words, the fields one save changed on one record shown together."""
    entries: list[Entry] = []
    for row in rows:
        entry = readable(row, names)
        last = entries[-1] if entries else None
        same = last is not None and (last.at, last.user, last.action, last.table, last.record_id,
                                     last.reason) == (entry.at, entry.user, entry.action,
                                     entry.table, entry.record_id, entry.reason)  # fmt: skip
        if same and last is not None:
            entries[-1] = dataclasses.replace(last, changes=last.changes + entry.changes)
        elif entry.changes or entry.action != "Changed":
            entries.append(entry)
    return entries
