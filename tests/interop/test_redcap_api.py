"""Reading a REDCap project through its API (PyCap), against a local HTTP server that
answers REDCap's API calls for metadata and records as REDCap documents them (a POST with
``token``, ``content`` and ``format``)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from pustula.demo import create_demo_study
from pustula.errors import DataValidationError
from pustula.interop.redcap import data_dictionary
from pustula.interop.redcap_records import (
    export_records,
    fetch_records,
    metadata_json,
    parse_records,
)
from pustula.store import Store, add_study, get_study
from pustula.store.records.study import protocol_of
from pustula.store.services.clinical import casebooks, import_subjects

TOKEN = "0123456789ABCDEF0123456789ABCDEF"


@pytest.fixture(scope="module")
def redcap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[dict[str, str]]]]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('api') / 'demo.sqlite3'}")
    store.create_schema()
    create_demo_study(store)
    with store.reader() as session:
        protocol = protocol_of(get_study(session))
    records = export_records(casebooks(store), protocol)
    metadata = json.dumps(metadata_json(data_dictionary(protocol)))
    calls: list[dict[str, str]] = []

    class Api(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            calls.append({k: v for k, v in form.items() if k != "token"})
            if form.get("token") != TOKEN:
                self._answer(403, "application/json",
                             '{"error": "You do not have permissions to use the API"}')  # fmt: skip
            elif form.get("content") == "metadata":
                self._answer(200, "application/json", metadata)
            elif form.get("content") == "record" and form.get("format") == "csv":
                self._answer(200, "text/csv", records)
            else:
                self._answer(400, "application/json", '{"error": "unsupported"}')

        def _answer(self, status: int, kind: str, body: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/api/", calls
    server.shutdown()
    server.server_close()


def test_records_read_through_the_api_import_like_the_file(
    redcap: tuple[str, list[dict[str, str]]], tmp_path: Path
) -> None:
    url, calls = redcap
    text = fetch_records(url, TOKEN)
    assert {c["content"] for c in calls} >= {"metadata", "record"}
    record_call = next(c for c in calls if c["content"] == "record")
    assert (record_call["format"], record_call["rawOrLabel"]) == ("csv", "raw")
    target = Store.open(f"sqlite:///{tmp_path / 'target.sqlite3'}")
    target.create_schema()
    with target.transaction(user="t") as tx:
        protocol = add_study(tx, _protocol(), sites=[("SITE1", "One"), ("SITE2", "Two")])
        protocol_text = protocol_of(protocol)
    subjects = parse_records(text, protocol_text)
    assert import_subjects(target, "importer", subjects, reason="from REDCap") == 6


def test_a_wrong_token_is_refused_without_showing_it(
    redcap: tuple[str, list[dict[str, str]]],
) -> None:
    url, _ = redcap
    secret = "F" * 32
    with pytest.raises(DataValidationError, match="could not be read") as caught:
        fetch_records(url, secret)
    assert secret not in caught.value.message and url in caught.value.message


def _protocol():  # type: ignore[no-untyped-def]
    from pustula.protocol import load_protocol
    from tests.store.helpers import PROTOCOL

    return load_protocol(PROTOCOL)
