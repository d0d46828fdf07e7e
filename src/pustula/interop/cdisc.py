"""Write SDTM and ADaM packages: one XPT v5 file per dataset and a Define-XML 2.1 beside them.

The Define-XML is described from the same metadata the files are written with
(:mod:`pustula.interop.sdtm_spec` for SDTM, the ADaM labels for ADaM), and its lengths from
the data, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pandas as pd

from pustula.interop.adam import AdamPackage, qs_test_of
from pustula.interop.define import (
    CodeListMeta,
    DatasetMeta,
    DefineDocument,
    MethodMeta,
    ValueMeta,
    VariableMeta,
    write_define,
)
from pustula.interop.sdtm import SdtmPackage
from pustula.interop.sdtm_spec import CODELISTS, DATASETS
from pustula.interop.sdtm_terms import EXTENDED
from pustula.interop.tidy import synthetic_note
from pustula.interop.xpt import ascii_column, write_xpt
from pustula.store.db.uow import Store
from pustula.store.transfer.extract import StudyData, read_exchange, restrict_exchange

__all__ = ["METHODS", "cdisc_package", "write_adam", "write_sdtm"]

Progress = Callable[[str], None]

METHODS = {
    "MT.PPPASI": MethodMeta(
        "MT.PPPASI",
        "PPPASI total",
        "Sum over the four regions (right palm, left palm, right sole, left sole) of weight x "
        "(erythema + pustules + desquamation) x area score; weights 0.2 for each palm and 0.3 "
        "for each sole; 0-72, rounded to 1 decimal (Bhushan et al. 2001).",
        "round(sum(w[r] * (E[r] + P[r] + D[r]) * A[r] for r in regions), 1)",
    ),
    "MT.PPPASI.REGION": MethodMeta(
        "MT.PPPASI.REGION",
        "PPPASI region score",
        "Region weight x (erythema + pustules + desquamation) x area score.",
        "w[r] * (E[r] + P[r] + D[r]) * A[r]",
    ),
    "MT.PPPASI.AREA": MethodMeta(
        "MT.PPPASI.AREA",
        "PPPASI area score",
        "Area score from the percentage of the region involved: 0 = 0 %, 1 = < 10 %, "
        "2 = 10-29 %, 3 = 30-49 %, 4 = 50-69 %, 5 = 70-89 %, 6 = 90-100 %.",
    ),
    "MT.DLQI": MethodMeta(
        "MT.DLQI",
        "DLQI total",
        "Sum of the 10 item scores (0-30); 'not relevant' scores 0; with 2 or more items "
        "unanswered the total is not computed; one unanswered item scores 0 (Finlay 1994).",
    ),
    "MT.PGACOMP": MethodMeta(
        "MT.PGACOMP",
        "PPP PGA composite",
        "From the erythema, pustule and scaling grades (0-4 each): 0 when all three are 0; "
        "otherwise from their mean: below 1.5 is 1, below 2.5 is 2, below 3.5 is 3, else 4.",
    ),
    "MT.STUDYDAY": MethodMeta(
        "MT.STUDYDAY",
        "Study day",
        "Date - RFSTDTC + 1 on or after the first dose, date - RFSTDTC before it (no day 0).",
    ),
    "MT.CHG": MethodMeta("MT.CHG", "Change from baseline", "AVAL - BASE.", "AVAL - BASE"),
    "MT.PCHG": MethodMeta(
        "MT.PCHG",
        "Percent change from baseline",
        "100 x (AVAL - BASE) / BASE; not computed when BASE is 0.",
        "100 * (AVAL - BASE) / BASE",
    ),
    "MT.CRIT": MethodMeta(
        "MT.CRIT",
        "Responder criterion",
        "Y when the record meets CRITy (PCHG at or below minus the cut-off for PPPASI, AVAL "
        "at or below 1 for the PGA), N when it does not, null when not evaluable.",
    ),
}

#: QS test codes derived by a method, and the method
_QS_METHODS = {"PPPASI": "MT.PPPASI", "DLQITOT": "MT.DLQI", "PGACOMP": "MT.PGACOMP"}
_QS_METHODS.update({f"{r}SCORE": "MT.PPPASI.REGION" for r in ("RP", "LP", "RS", "LS")})
_QS_METHODS.update({f"{r}ARSC": "MT.PPPASI.AREA" for r in ("RP", "LP", "RS", "LS")})


def _length(values: pd.Series) -> int:
    return max(1, max(map(len, values.astype(str).unique()), default=1))


def _numeric_type(values: pd.Series) -> tuple[str, int | None]:
    present = pd.Series(values.dropna().unique())
    if present.empty or (present == present.round()).all():
        return "integer", None
    digits = max(len(f"{v:g}".split(".")[1]) if "." in f"{v:g}" else 0 for v in present)
    return "float", digits


def _variable(
    frame: pd.DataFrame,
    name: str,
    label: str,
    origin: str,
    *,
    mandatory: bool,
    codelist: str | None = None,
    method: str | None = None,
    predecessor: str = "",
    values: tuple[ValueMeta, ...] = (),
) -> VariableMeta:
    column = frame[name]
    if pd.api.types.is_datetime64_any_dtype(column) or name.endswith("DTC"):
        return VariableMeta(name, label, "date", None, origin, mandatory, None, codelist,
                            method, predecessor, values)  # fmt: skip
    if pd.api.types.is_numeric_dtype(column):
        kind, digits = _numeric_type(column)
        return VariableMeta(
            name, label, kind, 8, origin, mandatory, digits, codelist, method, predecessor, values
        )
    length = _length(ascii_column(column))
    return VariableMeta(name, label, "text", length, origin, mandatory, None, codelist, method,
                        predecessor, values)  # fmt: skip


def _used_codes(frames: Iterable[pd.Series]) -> list[str]:
    seen: dict[str, None] = {}
    for values in frames:
        for v in pd.unique(values):
            if isinstance(v, str) and v:
                seen[v] = None
    return list(seen)


def _sdtm_codelists(package: SdtmPackage) -> tuple[CodeListMeta, ...]:
    columns: dict[str, list[pd.Series]] = {}
    for name, frame in package.datasets.items():
        for var in DATASETS[name].variables:
            if var.codelist:
                columns.setdefault(var.codelist, []).append(frame[var.name])
    extended = _extended_tests(package)
    out = []
    for codelist, series in sorted(columns.items()):
        standard = CODELISTS.get(codelist)
        used = _used_codes(series)
        if standard:  # the published terms, and any sponsor term the data use beside them
            terms = [(c, d, False) for c, d in standard.items()]
            terms += [(c, None, True) for c in used if c not in standard]
        else:
            terms = [(c, None, c in extended) for c in used]
        if not terms:
            continue
        has_decode = any(d is not None for _, d, _ in terms)
        if has_decode:
            terms = [(c, d if d is not None else c, e) for c, d, e in terms]
        out.append(CodeListMeta(f"CL.{codelist}", codelist, terms))
    return tuple(out)


def _extended_tests(package: SdtmPackage) -> set[str]:
    """The sponsor-defined QS test codes and names the data use (def:ExtendedValue)."""
    qs = package.datasets.get("QS")
    if qs is None:
        return set()
    extended = qs[qs["QSTESTCD"].isin(EXTENDED)]
    return set(extended["QSTESTCD"]) | set(extended["QSTEST"])


def _qs_values(qs: pd.DataFrame, variable: str) -> tuple[ValueMeta, ...]:
    values = []
    for key, rows in qs[qs["QSSTAT"] == ""].groupby(["QSTESTCD", "QSTEST"], sort=False):
        code, test = (str(k) for k in key)
        method = _QS_METHODS.get(code)
        if variable == "QSSTRESN":
            kind, _ = _numeric_type(rows["QSSTRESN"])
            values.append(
                ValueMeta(
                    "QSTESTCD", code, test, kind, 8, "Derived" if method else "Collected", method
                )
            )
        else:
            values.append(
                ValueMeta(
                    "QSTESTCD",
                    code,
                    test,
                    "text",
                    _length(rows[variable]),
                    "Derived" if method else "Collected",
                    method,
                )
            )
    return tuple(values)


def sdtm_define(package: SdtmPackage, title: str) -> DefineDocument:
    datasets = []
    for name, frame in package.datasets.items():
        spec = DATASETS[name]
        variables = []
        for var in spec.variables:
            method = "MT.STUDYDAY" if var.name.endswith("DY") and var.name != "VISITDY" else None
            values = (
                _qs_values(frame, var.name)
                if name == "QS" and var.name in ("QSORRES", "QSSTRESN")
                else ()
            )
            variables.append(
                _variable(
                    frame,
                    var.name,
                    var.label,
                    var.origin,
                    mandatory=var.core == "Req",
                    codelist=f"CL.{var.codelist}" if var.codelist else None,
                    method=method,
                    values=values,
                )
            )
        datasets.append(
            DatasetMeta(name, spec.label, spec.klass, spec.structure, spec.keys, tuple(variables))
        )
    codelists = _sdtm_codelists(package)
    known = {c.oid for c in codelists}
    datasets = [_drop_missing_codelists(d, known) for d in datasets]
    used = {"MT.STUDYDAY", *_QS_METHODS.values()}
    return DefineDocument(
        package.study,
        title,
        ("SDTMIG", "3.4"),
        "Tabulation",
        tuple(datasets),
        codelists,
        tuple(m for oid, m in METHODS.items() if oid in used),
    )


def _drop_missing_codelists(ds: DatasetMeta, known: set[str]) -> DatasetMeta:
    """A variable whose codelist has no term in the data (an empty dataset) refers to none."""
    variables = tuple(
        v if v.codelist in known or v.codelist is None else replace(v, codelist=None)
        for v in ds.variables
    )
    return replace(ds, variables=variables)


_ADSL_FROM_DM = {"STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "ARM"}
_ADQS_METHODS = {"CHG": "MT.CHG", "PCHG": "MT.PCHG", "ADY": "MT.STUDYDAY"}


def _adam_codelist(package: AdamPackage, column: str) -> CodeListMeta | None:
    """The codelist of an ADaM variable: No Yes for its flags, the protocol's levels for
    each stratification factor as randomized."""
    if column.endswith("FL"):
        return CodeListMeta("CL.NY", "No Yes Response", _NY)
    terms = package.terms.get(column)
    if terms:
        return CodeListMeta(f"CL.{column}", f"{column} levels", [(c, d, False) for c, d in terms])
    return None


_NY = [(code, decode, False) for code, decode in CODELISTS["NY"].items() if code in ("N", "Y")]


def adam_define(package: AdamPackage, title: str) -> DefineDocument:
    datasets = []
    for name, frame in package.datasets.items():
        labels = package.labels[name]
        variables = []
        for column in frame.columns:
            predecessor, origin, method = "", "Derived", None
            if name == "ADSL" and column in _ADSL_FROM_DM:
                origin, predecessor = "Predecessor", f"DM.{column}"
            elif name == "ADQS" and column == "AVAL":
                method = None
                origin, predecessor = (
                    "Predecessor",
                    "QS.QSSTRESN where QSTESTCD = "
                    + ", ".join(f"{p}: {t}" for p, t in qs_test_of.items()),
                )
            elif name == "ADQS" and column in ("STUDYID", "USUBJID", "SUBJID", "SITEID"):
                origin, predecessor = "Predecessor", f"ADSL.{column}"
            elif column.startswith("CRIT") and column.endswith("FL"):
                method = "MT.CRIT"
            else:
                method = _ADQS_METHODS.get(column) if name == "ADQS" else None
            mandatory = column in ("STUDYID", "USUBJID", "PARAMCD", "PARAM")
            codelist = _adam_codelist(package, column)
            variables.append(
                _variable(
                    frame,
                    column,
                    labels[column],
                    origin,
                    mandatory=mandatory,
                    codelist=codelist.oid if codelist else None,
                    method=method,
                    predecessor=predecessor,
                )
            )
        meta: tuple[str, str, str, tuple[str, ...]]
        if name == "ADSL":
            meta = (
                "Subject-Level Analysis Dataset",
                "SUBJECT LEVEL ANALYSIS DATASET",
                "One record per subject",
                ("STUDYID", "USUBJID"),
            )
        else:
            meta = (
                "Questionnaire Analysis Dataset",
                "BASIC DATA STRUCTURE",
                "One record per subject per parameter per analysis visit",
                ("STUDYID", "USUBJID", "PARAMCD", "AVISITN"),
            )
        datasets.append(DatasetMeta(name, meta[0], meta[1], meta[2], meta[3], tuple(variables)))
    used = {"MT.CHG", "MT.PCHG", "MT.STUDYDAY", "MT.CRIT"}
    codelists = {
        c.oid: c
        for frame in package.datasets.values()
        for column in frame.columns
        if (c := _adam_codelist(package, column))
    }
    return DefineDocument(
        package.study,
        title,
        ("ADaMIG", "1.3"),
        "Analysis",
        tuple(datasets),
        tuple(codelists.values()),
        tuple(m for oid, m in METHODS.items() if oid in used),
    )


def _write(
    datasets: dict[str, pd.DataFrame],
    labels: Callable[[str], tuple[str, dict[str, str]]],
    define: Callable[[], DefineDocument],
    directory: Path,
    note: str | None,
    progress: Progress | None,
) -> list[Path]:
    """Each dataset as XPT v5, the synthetic-data note where it applies, then define.xml."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in datasets.items():
        if progress:
            progress(name)
        label, variable_labels = labels(name)
        path = directory / f"{name.lower()}.xpt"
        write_xpt(frame, path, name=name, label=label, labels=variable_labels)
        written.append(path)
    if note:
        path = directory / "SYNTHETIC-DATA.txt"
        path.write_text(note + "\n", encoding="utf-8")
        written.append(path)
    if progress:
        progress("define.xml")
    write_define(define(), directory / "define.xml")
    return [*written, directory / "define.xml"]


_Package = TypeVar("_Package", SdtmPackage, AdamPackage)


def _note(package: SdtmPackage | AdamPackage) -> str | None:
    return synthetic_note(package.randomized) if package.synthetic else None


def _with_records(package: _Package, always: str) -> _Package:
    """The package without its datasets that have no records (CDISC CORE flags an empty
    file), except ``always`` (DM, ADSL)."""
    kept = {n: f for n, f in package.datasets.items() if len(f) or n == always}
    return replace(package, datasets=kept)


def write_sdtm(
    package: SdtmPackage, directory: Path, *, title: str, progress: Progress | None = None
) -> list[Path]:
    """Every SDTM dataset with records as XPT v5, and define.xml (schema-checked)."""
    package = _with_records(package, "DM")

    def labels(name: str) -> tuple[str, dict[str, str]]:
        spec = DATASETS[name]
        return spec.label, {v.name: v.label for v in spec.variables}

    return _write(package.datasets, labels, lambda: sdtm_define(package, title), directory,
                  _note(package), progress)  # fmt: skip


def write_adam(
    package: AdamPackage, directory: Path, *, title: str, progress: Progress | None = None
) -> list[Path]:
    """ADSL, and ADQS if it has records, as XPT v5, and define.xml (schema-checked)."""
    package = _with_records(package, "ADSL")
    names = {"ADSL": "Subject-Level Analysis Dataset", "ADQS": "Questionnaire Analysis Dataset"}

    def labels(name: str) -> tuple[str, dict[str, str]]:
        return names[name], package.labels[name]

    return _write(package.datasets, labels, lambda: adam_define(package, title), directory,
                  _note(package), progress)  # fmt: skip


def cdisc_package(
    store: Store, data: StudyData, standard: str, directory: Path, progress: Progress | None = None
) -> list[Path]:
    """Write the SDTM or ADaM package of ``data`` (possibly one site's subjects) to a folder."""
    from pustula.analysis.datasets import build_analysis
    from pustula.interop.adam import build_adam
    from pustula.interop.sdtm import build_sdtm

    extra = restrict_exchange(read_exchange(store), set(data.subjects["subject"]))
    sdtm = build_sdtm(data, extra)
    if standard == "sdtm":
        return write_sdtm(sdtm, directory, title=data.title, progress=progress)
    adam = build_adam(build_analysis(data), sdtm)
    return write_adam(adam, directory, title=data.title, progress=progress)
