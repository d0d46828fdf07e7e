"""CDISC ODM 1.3.2: the study's metadata and clinical data out, and back in.

The metadata describe the same forms, fields, codelists and events as the REDCap data
dictionary (:mod:`pustula.interop.redcap`), so an EDC that reads ODM sets up the same CRFs;
the clinical data carry the same values as a REDCap records export, one ``StudyEventData``
per visit and a repeating ``FormData`` per prior therapy. Importing reads those values into
the same records the REDCap import reads, so both imports check and save alike (all or
nothing, every visit re-scored). Calculated fields are left out: Pustula scores on import.
Every file is checked against the ODM 1.3.2 schema, going out and coming in.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import odmlib.odm_1_3_2.model as odm_xml
import xmlschema
from odmlib.schema_manager import get_schema_path

from pustula.checks.vocabulary import CODELISTS
from pustula.errors import DataValidationError
from pustula.interop.redcap import (
    PRIOR_FORM,
    DictionaryRow,
    data_dictionary,
    event_name,
    instrument_events,
)
from pustula.interop.redcap_records import CHECKBOXES, export_records, parse_records
from pustula.protocol import Protocol
from pustula.store.audit.sources import Reader
from pustula.store.services.clinical import Casebook, ImportedSubject

__all__ = ["READER", "export_odm", "read_odm", "read_source", "validate_odm"]

_NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
_DATA_TYPES = {"integer": "integer", "number": "float", "date_ymd": "date"}


def _text(text: str) -> odm_xml.TranslatedText:
    return odm_xml.TranslatedText(_content=text, lang="en")


def _choices(row: DictionaryRow) -> list[tuple[str, str]]:
    if row.kind == "yesno":
        return [("1", "Yes"), ("0", "No")]
    pairs = []
    for part in row.choices.split("|"):
        if "," in part:
            code, label = part.split(",", 1)
            pairs.append((code.strip(), label.strip()))
    return pairs


def _fields(rows: Iterable[DictionaryRow]) -> list[tuple[DictionaryRow, str, str]]:
    """(dictionary row, item name, label) for every collected item; a checkbox is one item
    per option (``field___code``, 1 or 0), as REDCap writes it."""
    out = []
    for row in rows:
        if row.kind in ("calc", "descriptive"):
            continue
        if row.kind == "checkbox":
            for code, label in CODELISTS[CHECKBOXES[row.name]].items():
                out.append((row, f"{row.name}___{code}", f"{row.label}: {label}"))
        else:
            out.append((row, row.name, row.label))
    return out


def _metadata(protocol: Protocol) -> odm_xml.MetaDataVersion:
    rows = data_dictionary(protocol)
    mdv = odm_xml.MetaDataVersion(OID="MDV.1", Name=f"{protocol.id} version {protocol.version}")
    forms: dict[str, list[tuple[DictionaryRow, str, str]]] = {}
    for row, name, label in _fields(rows):
        forms.setdefault(row.form, []).append((row, name, label))
        item = odm_xml.ItemDef(
            OID=f"IT.{name}", Name=name, DataType=_DATA_TYPES.get(row.validation, "text")
        )
        item.Question = odm_xml.Question(TranslatedText=[_text(label)])
        if row.kind == "checkbox":
            item.DataType = "integer"
            item.CodeListRef = odm_xml.CodeListRef(CodeListOID="CL.checked")
        elif row.kind in ("radio", "dropdown", "yesno"):
            item.CodeListRef = odm_xml.CodeListRef(CodeListOID=f"CL.{row.name}")
            mdv.CodeList.append(_codelist(f"CL.{row.name}", row.name, _choices(row)))
        if item.DataType == "text":
            item.Length = 200
        mdv.ItemDef.append(item)
    mdv.CodeList.append(_codelist("CL.checked", "checked", [("1", "Checked"), ("0", "Unchecked")]))
    for form, items in forms.items():
        mdv.FormDef.append(
            odm_xml.FormDef(
                OID=f"F.{form}",
                Name=form,
                Repeating="Yes" if form == PRIOR_FORM else "No",
                ItemGroupRef=[odm_xml.ItemGroupRef(ItemGroupOID=f"IG.{form}", Mandatory="Yes")],
            )
        )
        mdv.ItemGroupDef.append(
            odm_xml.ItemGroupDef(
                OID=f"IG.{form}",
                Name=form,
                Repeating="No",
                ItemRef=[
                    odm_xml.ItemRef(ItemOID=f"IT.{name}", Mandatory="No", OrderNumber=i)
                    for i, (_, name, _) in enumerate(items, start=1)
                ],
            )
        )
    mapping: dict[str, list[str]] = {}
    for entry in instrument_events(protocol):
        mapping.setdefault(entry["unique_event_name"], []).append(entry["form"])
    mdv.Protocol = odm_xml.Protocol(
        StudyEventRef=[
            odm_xml.StudyEventRef(
                StudyEventOID=f"SE.{event_name(v.label)}", OrderNumber=i, Mandatory="Yes"
            )
            for i, v in enumerate(protocol.visits, start=1)
        ]
    )
    for v in protocol.visits:
        event = event_name(v.label)
        mdv.StudyEventDef.append(
            odm_xml.StudyEventDef(
                OID=f"SE.{event}",
                Name=v.label,
                Repeating="No",
                Type="Scheduled",
                FormRef=[
                    odm_xml.FormRef(FormOID=f"F.{f}", Mandatory="No", OrderNumber=i)
                    for i, f in enumerate(mapping.get(event, []), start=1)
                ],
            )
        )
    return mdv


def _codelist(oid: str, name: str, pairs: list[tuple[str, str]]) -> odm_xml.CodeList:
    return odm_xml.CodeList(
        OID=oid,
        Name=name,
        DataType="text",
        CodeListItem=[
            odm_xml.CodeListItem(
                CodedValue=code, Decode=odm_xml.Decode(TranslatedText=[_text(label)])
            )
            for code, label in pairs
        ],
    )


def _clinical(books: Iterable[Casebook], protocol: Protocol) -> odm_xml.ClinicalData:
    form_of = {name: row.form for row, name, _ in _fields(data_dictionary(protocol))}
    rows = csv.DictReader(io.StringIO(export_records(books, protocol)))
    subjects: dict[str, odm_xml.SubjectData] = {}
    events: dict[tuple[str, str], odm_xml.StudyEventData] = {}
    for row in rows:
        code, event = row["record_id"], row["redcap_event_name"]
        subject = subjects.setdefault(code, odm_xml.SubjectData(SubjectKey=code))
        if (code, event) not in events:
            events[(code, event)] = odm_xml.StudyEventData(StudyEventOID=f"SE.{event}")
            subject.StudyEventData.append(events[(code, event)])
        by_form: dict[str, list[odm_xml.ItemData]] = {}
        for name, value in row.items():
            # record_id is the SubjectKey, not an item of a form
            if name in form_of and value != "" and name != "record_id":
                by_form.setdefault(form_of[name], []).append(
                    odm_xml.ItemData(ItemOID=f"IT.{name}", Value=value)
                )
        repeat = row.get("redcap_repeat_instance") or None
        for form, items in by_form.items():
            data = odm_xml.FormData(
                FormOID=f"F.{form}",
                ItemGroupData=[odm_xml.ItemGroupData(ItemGroupOID=f"IG.{form}", ItemData=items)],
            )
            if repeat:
                data.FormRepeatKey = repeat
            events[(code, event)].FormData.append(data)
    return odm_xml.ClinicalData(
        StudyOID=f"ST.{protocol.id}",
        MetaDataVersionOID="MDV.1",
        SubjectData=list(subjects.values()),
    )


def export_odm(books: Iterable[Casebook], protocol: Protocol, path: Path) -> None:
    """Write the study's ODM 1.3.2 (metadata and clinical data) and check it against the XSD."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    study = odm_xml.Study(
        OID=f"ST.{protocol.id}",
        GlobalVariables=odm_xml.GlobalVariables(
            StudyName=odm_xml.StudyName(_content=protocol.id),
            StudyDescription=odm_xml.StudyDescription(_content=protocol.title),
            ProtocolName=odm_xml.ProtocolName(_content=protocol.id),
        ),
    )
    study.MetaDataVersion = [_metadata(protocol)]
    root = odm_xml.ODM(
        FileOID=f"ODM.{protocol.id}",
        FileType="Snapshot",
        Granularity="All",
        CreationDateTime=stamp,
        ODMVersion="1.3.2",
        Originator="Pustula",
        SourceSystem="Pustula",
    )
    root.Study = [study]
    root.ClinicalData = [_clinical(books, protocol)]
    root.write_xml(str(path))
    validate_odm(path)


_SCHEMA: list[xmlschema.XMLSchema] = []


def validate_odm(path: Path) -> None:
    """Raise :class:`DataValidationError` naming the first ODM 1.3.2 schema error."""
    if not _SCHEMA:
        _SCHEMA.append(xmlschema.XMLSchema(get_schema_path("odm", "1.3.2")))
    try:
        errors = list(_SCHEMA[0].iter_errors(str(path)))
    except ET.ParseError as error:
        raise DataValidationError(f"{path.name} is not XML: {error}") from None
    if errors:
        first = errors[0]
        raise DataValidationError(
            f"{path.name} is not valid ODM 1.3.2: {first.reason} at {first.path}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        )


def read_source(
    content: bytes,
    protocol: Protocol,
    options: Mapping[str, Any],
    lines: Sequence[tuple[int, int]] | None = None,
) -> list[ImportedSubject]:
    """The subjects of a kept ODM file, read again as its import read it (the ``odm``
    reader of :mod:`pustula.store.audit.sources`; an XML file has no lines to pick).

    Examples
    --------
    >>> from pathlib import Path
    >>> from pustula.store.services.clinical import casebooks, study_protocol
    >>> store = demo_store()
    >>> protocol = study_protocol(store)
    >>> export_odm(casebooks(store), protocol, Path("study.xml"))
    >>> len(read_source(Path("study.xml").read_bytes(), protocol, {}))
    6
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.xml"
        path.write_bytes(content)
        return read_odm(path, protocol)


def read_odm(path: Path, protocol: Protocol) -> list[ImportedSubject]:
    """The subjects of an ODM 1.3.2 file written from this protocol's forms, to enrol.

    Refuses a file that is not schema-valid ODM, and anything the REDCap import refuses,
    naming subject, event, field and value.
    """
    validate_odm(path)
    root = ET.parse(path).getroot()
    columns: dict[str, None] = {
        "record_id": None,
        "redcap_event_name": None,
        "redcap_repeat_instrument": None,
        "redcap_repeat_instance": None,
    }
    rows: list[dict[str, str]] = []
    for subject in root.iterfind("odm:ClinicalData/odm:SubjectData", _NS):
        code = subject.get("SubjectKey", "")
        for event in subject.iterfind("odm:StudyEventData", _NS):
            name = event.get("StudyEventOID", "").removeprefix("SE.")
            plain: dict[str, str] = {"record_id": code, "redcap_event_name": name}
            for form in event.iterfind("odm:FormData", _NS):
                target = plain
                if form.get("FormRepeatKey"):
                    target = {
                        "record_id": code,
                        "redcap_event_name": name,
                        "redcap_repeat_instrument": form.get("FormOID", "").removeprefix("F."),
                        "redcap_repeat_instance": form.get("FormRepeatKey", ""),
                    }
                    rows.append(target)
                for item in form.iterfind("odm:ItemGroupData/odm:ItemData", _NS):
                    field = item.get("ItemOID", "").removeprefix("IT.")
                    columns[field] = None
                    target[field] = item.get("Value", "")
            rows.append(plain)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    # lines of the CSV built here mean nothing in the XML file the import keeps
    return [dataclasses.replace(s, lines=()) for s in parse_records(out.getvalue(), protocol)]


#: The ``odm`` reader of kept files (``pustula.import_readers``): read whole, as an XML
#: file must be.
READER = Reader(read_source)
