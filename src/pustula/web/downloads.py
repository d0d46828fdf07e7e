"""Downloads for statisticians in the browser, and the API's documentation page.

The analysis datasets are those the report is built from (ADSL, ADQS), restricted to the
user's sites. The API page is rendered here from the app's own OpenAPI schema: no script
or stylesheet from elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from pustula.checks.spreadsheet import inert_frame
from pustula.store.services.studies import studies_on_server
from pustula.web.deps import authorize, get_store, principal_of
from pustula.web.render import render
from pustula.web.study_paths import STUDY_PREFIX
from pustula.web.throughput import long_read
from pustula.web.views import study_for

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

TIDY_FORMATS = {
    "csv": "CSV", "xlsx": "Excel", "parquet": "Parquet", "sav": "SPSS (.sav)",
    "dta": "Stata (.dta)", "xpt": "SAS transport (.xpt)",
}  # fmt: skip
DATASETS = {
    "adsl": "ADSL: one row per subject (populations, baseline, treatment)",
    "adqs": "ADQS: one row per subject, visit and score (change from baseline, responder flags)",
}


@router.get("/downloads", name="downloads", response_class=HTMLResponse)
def downloads(request: Request) -> Response:
    several = studies_on_server(get_store(request)) > 1
    return render(request, "downloads.html", datasets=DATASETS, tidy=TIDY_FORMATS,
                  several_studies=several)  # fmt: skip


def _dataset_csv(request: Request, name: str) -> Response:
    from pustula.analysis import build_analysis

    data = study_for(get_store(request), principal_of(request))
    frame = getattr(build_analysis(data), name)
    return Response(
        inert_frame(frame).to_csv(index=False, date_format="%Y-%m-%d"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{data.code}-{name}.csv"'},
    )


def _register(name: str) -> None:
    # one fixed path per dataset: long reads are scheduled by their exact path
    @router.get(f"/downloads/{name}.csv", name=f"download_{name}")
    @long_read
    def download(request: Request) -> Response:
        return _dataset_csv(request, name)


for _name in DATASETS:
    _register(_name)


def _zip_of(write: Callable[[Path], Iterable[Path]], filename: str) -> Response:
    """The files ``write`` puts in a fresh folder, as one ZIP download."""
    import io
    import tempfile
    import zipfile

    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w") as archive:
        for path in write(Path(tmp)):
            archive.write(path, path.name)
    disposition = f'attachment; filename="{filename}"'
    return Response(buffer.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": disposition})  # fmt: skip


def _tidy_zip(request: Request, fmt: str) -> Response:
    from pustula.analysis import build_analysis
    from pustula.interop import build_tidy, write_tidy
    from pustula.store.transfer.extract import read_items

    store = get_store(request)
    data, items = study_for(store, principal_of(request)), read_items(store)
    items = items[items["subject"].isin(data.subjects["subject"])]
    export = build_tidy(build_analysis(data), items)
    return _zip_of(lambda folder: write_tidy(export, folder, fmt), f"{data.code}-tidy-{fmt}.zip")


def _register_tidy(fmt: str) -> None:
    @router.get(f"/downloads/tidy-{fmt}.zip", name=f"download_tidy_{fmt}")
    @long_read
    def download(request: Request) -> Response:
        return _tidy_zip(request, fmt)


for _fmt in TIDY_FORMATS:
    _register_tidy(_fmt)


def _cdisc_zip(request: Request, standard: str) -> Response:
    """SDTM or ADaM: XPT v5 files and define.xml, for the user's sites' subjects."""
    from pustula.interop.cdisc import cdisc_package

    store = get_store(request)
    data = study_for(store, principal_of(request))
    return _zip_of(lambda folder: cdisc_package(store, data, standard, folder),
                   f"{data.code}-{standard}.zip")  # fmt: skip


@router.get("/downloads/sdtm.zip", name="download_sdtm")
@long_read
def download_sdtm(request: Request) -> Response:
    return _cdisc_zip(request, "sdtm")


@router.get("/downloads/adam.zip", name="download_adam")
@long_read
def download_adam(request: Request) -> Response:
    return _cdisc_zip(request, "adam")


@router.get("/downloads/odm.xml", name="download_odm")
@long_read
def download_odm(request: Request) -> Response:
    """ODM 1.3.2 with the forms and the data of the user's sites' subjects."""
    import tempfile

    from pustula.interop.odm import export_odm
    from pustula.store.services.clinical import casebooks

    store = get_store(request)
    data = study_for(store, principal_of(request))
    allowed = set(data.subjects["subject"])
    books = [b for b in casebooks(store) if b.subject.code in allowed]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "odm.xml"
        export_odm(books, data.protocol, path)
        body = path.read_bytes()
    disposition = f'attachment; filename="{data.code}-odm.xml"'
    return Response(body, media_type="application/xml",
                    headers={"Content-Disposition": disposition})  # fmt: skip


@router.get("/downloads/redcap-dictionary.zip", name="download_redcap_dictionary")
def download_redcap_dictionary(request: Request) -> Response:
    """The study's REDCap data dictionary with its events and instrument-event mapping."""
    from pustula.interop.redcap import project_files
    from pustula.store.services.trial import arms_as_seen

    protocol, _ = arms_as_seen(get_store(request), arms=principal_of(request).can("unblinded"))
    files = project_files(protocol)

    def write(folder: Path) -> list[Path]:
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return [folder / name for name in files]

    return _zip_of(write, "redcap.zip")


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Each API operation with its summary, parameters and an example body."""
    components = schema.get("components", {}).get("schemas", {})
    found = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            found.append(
                {
                    "method": method.upper(), "path": path,
                    "summary": op.get("summary", ""), "description": op.get("description", ""),
                    "parameters": [p["name"] for p in op.get("parameters", [])],
                    "example": _example(body.get("schema", {}), components),
                }
            )  # fmt: skip
    return found


def _example(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> str:
    value = _sample(schema, components, depth)
    return "" if value is None else json.dumps(value, indent=2)


def _sample(schema: dict[str, Any], components: dict[str, Any], depth: int) -> Any:
    if depth > 4 or not schema:
        return None
    if "$ref" in schema:
        return _sample(components.get(schema["$ref"].split("/")[-1], {}), components, depth + 1)
    if "examples" in schema:
        return schema["examples"][0]
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return _sample(options[0], components, depth + 1) if options else None
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        required = set(schema.get("required", []))
        return {
            k: _sample(v, components, depth + 1)
            for k, v in schema["properties"].items()
            if k in required
        }
    if "enum" in schema:
        return schema["enum"][0]
    return (
        {"string": "text", "integer": 1, "number": 1.0, "boolean": False, "array": []}.get(
            kind or "", "…"
        )
        if schema.get("format") != "date"
        else "2024-04-01"
    )


@router.get("/api/docs", name="api_docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    schema = request.app.openapi()
    # the study's own routes; the same without a study are deprecated (decision 0019)
    current = [op for op in _operations(schema) if op["path"].startswith(STUDY_PREFIX)]
    return render(request, "api_docs.html", info=schema.get("info", {}),
                  operations=current, study_prefix=STUDY_PREFIX)  # fmt: skip
