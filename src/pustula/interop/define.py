"""Define-XML 2.1 (odmlib) for a package of datasets, checked against the Define-XML 2.1 XSD.

Built from a neutral description (:class:`DatasetMeta`, :class:`VariableMeta`), which
:mod:`pustula.interop.cdisc` fills in for SDTM and for ADaM: datasets with their keys, class,
structure and file; variables with type, length, origin, codelist and method; codelists
(sponsor terms flagged ``def:ExtendedValue``), computational methods, and value-level
metadata with where clauses (QS results per test code).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import odmlib.define_2_1.model as define_xml
import xmlschema
from odmlib.schema_manager import get_schema_path

from pustula.errors import DataValidationError

__all__ = [
    "CodeListMeta",
    "DatasetMeta",
    "DefineDocument",
    "MethodMeta",
    "ValueMeta",
    "VariableMeta",
    "validate_define",
    "write_define",
]


@dataclass(frozen=True)
class CodeListMeta:
    oid: str
    name: str
    terms: Sequence[tuple[str, str | None, bool]]  # (code, decode or None, sponsor extension)
    data_type: str = "text"


@dataclass(frozen=True)
class MethodMeta:
    oid: str
    name: str
    description: str
    expression: str = ""
    kind: str = "Computation"


@dataclass(frozen=True)
class ValueMeta:
    """One value-level definition: the variable's values where ``where_var`` equals ``value``."""

    where_var: str
    value: str
    label: str
    data_type: str
    length: int | None
    origin: str
    method: str | None = None
    codelist: str | None = None


@dataclass(frozen=True)
class VariableMeta:
    name: str
    label: str
    data_type: str  # text, integer, float, date
    length: int | None
    origin: str  # Collected, Derived, Assigned, Protocol, Predecessor
    mandatory: bool
    digits: int | None = None
    codelist: str | None = None
    method: str | None = None
    predecessor: str = ""
    values: tuple[ValueMeta, ...] = ()


@dataclass(frozen=True)
class DatasetMeta:
    name: str
    label: str
    klass: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[VariableMeta, ...]


@dataclass(frozen=True)
class DefineDocument:
    study: str
    title: str
    standard: tuple[str, str]  # (name, version): SDTMIG 3.4 or ADaMIG 1.3
    purpose: str  # Tabulation or Analysis
    datasets: tuple[DatasetMeta, ...]
    codelists: tuple[CodeListMeta, ...] = ()
    methods: tuple[MethodMeta, ...] = ()
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


def _text(text: str) -> define_xml.Description:
    return define_xml.Description(
        TranslatedText=[define_xml.TranslatedText(_content=text, lang="en")]
    )


_SOURCE = {
    "Collected": "Investigator",
    "Derived": "Sponsor",
    "Assigned": "Sponsor",
    "Protocol": "Sponsor",
    "Predecessor": "Sponsor",
}


def _origin(kind: str, predecessor: str = "") -> define_xml.Origin:
    origin = define_xml.Origin(Type=kind, Source=_SOURCE.get(kind))
    if predecessor:
        origin.Description = _text(predecessor)
    return origin


def _item_def(
    oid: str,
    name: str,
    label: str,
    data_type: str,
    length: int | None,
    digits: int | None,
    origin: str,
    codelist: str | None,
    predecessor: str = "",
) -> define_xml.ItemDef:
    item = define_xml.ItemDef(OID=oid, Name=name, DataType=data_type, SASFieldName=name[:8])
    if data_type in ("text", "integer", "float") and length:
        item.Length = length
    if data_type == "float" and digits is not None:
        item.SignificantDigits = digits
    item.Description = _text(label)
    if codelist:
        item.CodeListRef = define_xml.CodeListRef(CodeListOID=codelist)
    item.Origin = [_origin(origin, predecessor)]
    return item


def _codelist(meta: CodeListMeta) -> define_xml.CodeList:
    codelist = define_xml.CodeList(OID=meta.oid, Name=meta.name, DataType=meta.data_type)
    for order, (code, decode, extended) in enumerate(meta.terms, start=1):
        extra = {"ExtendedValue": "Yes"} if extended else {}
        if decode is None:
            codelist.EnumeratedItem.append(
                define_xml.EnumeratedItem(CodedValue=code, OrderNumber=order, **extra)
            )
        else:
            codelist.CodeListItem.append(
                define_xml.CodeListItem(
                    CodedValue=code,
                    OrderNumber=order,
                    **extra,
                    Decode=define_xml.Decode(
                        TranslatedText=[define_xml.TranslatedText(_content=decode, lang="en")]
                    ),
                )
            )
    return codelist


def _method(meta: MethodMeta) -> define_xml.MethodDef:
    method = define_xml.MethodDef(OID=meta.oid, Name=meta.name, Type=meta.kind)
    method.Description = _text(meta.description)
    if meta.expression:
        method.FormalExpression = [
            define_xml.FormalExpression(Context="Python", _content=meta.expression)
        ]
    return method


def _build(doc: DefineDocument) -> define_xml.ODM:
    stamp = doc.created.strftime("%Y-%m-%dT%H:%M:%S")
    standard_name, standard_version = doc.standard
    mdv = define_xml.MetaDataVersion(
        OID=f"MDV.{doc.study}.{standard_name}",
        Name=f"{doc.study} {standard_name}",
        DefineVersion="2.1.0",
    )
    mdv.Description = f"{doc.title}: {standard_name} {standard_version} datasets"
    mdv.Standards = define_xml.Standards(
        Standard=[
            define_xml.Standard(
                OID="STD.IG",
                Name=standard_name,
                Type="IG",
                Version=standard_version,
                Status="Final",
            ),
            define_xml.Standard(
                OID="STD.CT",
                Name="CDISC/NCI",
                Type="CT",
                PublishingSet="SDTM" if doc.purpose == "Tabulation" else "ADaM",
                Version="2024-03-29",
                Status="Final",
            ),
        ]
    )
    items: dict[str, define_xml.ItemDef] = {}
    for ds in doc.datasets:
        group = define_xml.ItemGroupDef(
            OID=f"IG.{ds.name}",
            Name=ds.name,
            Repeating="No" if ds.name in ("DM", "ADSL") else "Yes",
            IsReferenceData="Yes" if ds.klass == "TRIAL DESIGN" else "No",
            SASDatasetName=ds.name,
            Purpose=doc.purpose,
            Structure=ds.structure,
            ArchiveLocationID=f"LF.{ds.name}",
            StandardOID="STD.IG",
        )
        if doc.purpose == "Tabulation" and not ds.name.startswith("SUPP"):
            group.Domain = ds.name
        group.Description = _text(ds.label)
        for order, var in enumerate(ds.variables, start=1):
            oid = f"IT.{ds.name}.{var.name}"
            ref = define_xml.ItemRef(
                ItemOID=oid, OrderNumber=order, Mandatory="Yes" if var.mandatory else "No"
            )
            if var.name in ds.keys:
                ref.KeySequence = ds.keys.index(var.name) + 1
            if var.method:
                ref.MethodOID = var.method
            group.ItemRef.append(ref)
            item = _item_def(
                oid,
                var.name,
                var.label,
                var.data_type,
                var.length,
                var.digits,
                var.origin,
                var.codelist,
                var.predecessor,
            )
            if var.values:
                item.ValueListRef = define_xml.ValueListRef(ValueListOID=f"VL.{ds.name}.{var.name}")
                _value_list(mdv, items, ds.name, var)
            items[oid] = item
        group.Class = define_xml.Class(Name=ds.klass)
        group.leaf = define_xml.leaf(
            ID=f"LF.{ds.name}",
            href=f"{ds.name.lower()}.xpt",
            title=define_xml.title(_content=f"{ds.name.lower()}.xpt"),
        )
        mdv.ItemGroupDef.append(group)
    mdv.ItemDef = list(items.values())
    mdv.CodeList = [_codelist(c) for c in doc.codelists]
    mdv.MethodDef = [_method(m) for m in doc.methods]
    study = define_xml.Study(OID=f"ST.{doc.study}")
    study.GlobalVariables = define_xml.GlobalVariables(
        StudyName=define_xml.StudyName(_content=doc.study),
        StudyDescription=define_xml.StudyDescription(_content=doc.title),
        ProtocolName=define_xml.ProtocolName(_content=doc.study),
    )
    study.MetaDataVersion = mdv
    odm = define_xml.ODM(
        FileOID=f"define_xml.{doc.study}.{standard_name}",
        FileType="Snapshot",
        ODMVersion="1.3.2",
        CreationDateTime=stamp,
        AsOfDateTime=stamp,
        Originator="Pustula",
        SourceSystem="Pustula",
        Context="Submission",
    )
    odm.Study = study
    return odm


def _value_list(
    mdv: define_xml.MetaDataVersion,
    items: dict[str, define_xml.ItemDef],
    dataset: str,
    var: VariableMeta,
) -> None:
    values = define_xml.ValueListDef(OID=f"VL.{dataset}.{var.name}")
    for order, value in enumerate(var.values, start=1):
        where = f"WC.{dataset}.{value.where_var}.{value.value}"
        oid = f"IT.{dataset}.{var.name}.{value.value}"
        ref = define_xml.ItemRef(
            ItemOID=oid,
            OrderNumber=order,
            Mandatory="No",
            WhereClauseRef=[define_xml.WhereClauseRef(WhereClauseOID=where)],
        )
        if value.method:
            ref.MethodOID = value.method
        values.ItemRef.append(ref)
        if not any(where == w.OID for w in mdv.WhereClauseDef):
            mdv.WhereClauseDef.append(
                define_xml.WhereClauseDef(
                    OID=where,
                    RangeCheck=[
                        define_xml.RangeCheck(
                            Comparator="EQ",
                            SoftHard="Soft",
                            ItemOID=f"IT.{dataset}.{value.where_var}",
                            CheckValue=[define_xml.CheckValue(_content=value.value)],
                        )
                    ],
                )
            )
        items[oid] = _item_def(
            oid,
            var.name,
            value.label,
            value.data_type,
            value.length,
            None,
            value.origin,
            value.codelist,
        )
    mdv.ValueListDef.append(values)


def write_define(doc: DefineDocument, path: Path) -> None:
    """Write define.xml and check it against the Define-XML 2.1 schema."""
    _build(doc).write_xml(str(path))
    validate_define(path)


def validate_define(path: Path) -> None:
    """Raise :class:`DataValidationError` naming the first schema error, if any."""
    schema = _schema()
    errors = list(schema.iter_errors(str(path)))
    if errors:
        first = errors[0]
        raise DataValidationError(
            f"{path.name} is not valid Define-XML 2.1: {first.reason} at {first.path}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        )


_SCHEMAS: dict[str, xmlschema.XMLSchema] = {}


def _schema() -> xmlschema.XMLSchema:
    if "define" not in _SCHEMAS:
        _SCHEMAS["define"] = xmlschema.XMLSchema(get_schema_path("define", "2.1"))
    return _SCHEMAS["define"]
