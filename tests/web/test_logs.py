"""JSON logs for a log collector: an access line per request with the route's name, the
method, the status and the time, and no path, subject code, token, address or value."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from pustula.web.logs import ACCESS, JsonFormatter
from tests.web.conftest import csrf_of

Login = Callable[[str], TestClient]


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    level = ACCESS.level
    ACCESS.addHandler(handler)
    ACCESS.setLevel(logging.INFO)
    yield out
    ACCESS.removeHandler(handler)
    ACCESS.setLevel(level)


def test_every_request_is_one_json_line_without_personal_data(
    login: Login, lines: io.StringIO
) -> None:
    staff = login("investigator")
    staff.get("/subjects/S05")
    form = staff.get("/subjects/S05/ae/new")
    staff.post("/subjects/S05/ae/new", data={"csrf": csrf_of(form.text),
                                             "term": "Nasopharyngitis Smith"})  # fmt: skip
    TestClient(staff.app).get("/p/a-patients-token-0123456789abcdef")
    entries = [json.loads(line) for line in lines.getvalue().splitlines()]
    routes = [(e["route"], e["method"], e["status"]) for e in entries]
    assert ("subject_timeline", "GET", 200) in routes and ("patient_form", "GET", 410) in routes
    assert all(set(e) == {"time", "level", "logger", "message", "route", "method", "status",
                          "ms"} for e in entries)  # fmt: skip
    text = lines.getvalue()
    for secret in ("S05", "a-patients-token", "Smith", "testclient", "/subjects"):
        assert secret not in text
