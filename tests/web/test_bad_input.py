"""What the outside check sent to the API: every bad value gets a 4xx naming the field, and
nothing is stored; a bad date already in the database never takes a page down."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from pustula.store import Store
from pustula.store.accounts.users import issue_api_token
from pustula.store.db.models import AdverseEvent, Lab

LAB = {"test": "alt", "value": 30.0, "unit": "U/L", "sample_date": "2024-04-01"}
AE = {"term": "Headache", "start_date": "2024-04-01", "grade": 1, "relatedness": "unlikely",
      "action_taken": "none", "outcome": "recovered", "end_date": "2024-04-03"}  # fmt: skip


@pytest.fixture
def api(web_store: Store, app: object) -> TestClient:
    with web_store.transaction(user="admin", reason="token for the test") as tx:
        token = issue_api_token(tx, "admin")
    client = TestClient(app)  # type: ignore[arg-type]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _count(store: Store, model: object) -> int:
    with store.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"value": "Infinity"}, "value"), ({"value": "1e400"}, "value"), ({"value": "NaN"}, "value"),
     ({"value": -1}, "value"), ({"test": "zzz"}, "test"), ({"unit": "furlongs"}, "unit"),
     ({"sample_date": "0001-01-01"}, "sample_date"), ({"sample_date": "9999-12-31"}, "sample_date"),
     ({"value": True}, "value"), ({"unit": "U/L\x00"}, "unit")],
)  # fmt: skip
def test_a_bad_lab_value_is_refused_and_nothing_stored(
    api: TestClient, web_store: Store, change: dict[str, object], field: str
) -> None:
    before = _count(web_store, Lab)
    raw = json.dumps(LAB | change).replace('"Infinity"', "Infinity").replace('"1e400"', "1e400")
    raw = raw.replace('"NaN"', "NaN")
    response = api.post("/api/v1/subjects/S01/labs", content=raw,
                        headers={"Content-Type": "application/json"})  # fmt: skip
    assert 400 <= response.status_code < 500, response.text
    assert field in response.text
    assert _count(web_store, Lab) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [({"grade": True}, "grade"), ({"term": "x" * 10_000}, "term"), ({"term": "a\x00b"}, "term"),
     ({"end_date": "2024-03-01"}, "end_date"),
     ({"serious": True, "serious_criteria": ["death", "death"], "grade": 5, "outcome": "fatal"},
      "serious_criteria")],
)  # fmt: skip
def test_a_bad_adverse_event_is_refused_and_nothing_stored(
    api: TestClient, web_store: Store, change: dict[str, object], field: str
) -> None:
    before = _count(web_store, AdverseEvent)
    response = api.post("/api/v1/subjects/S01/adverse-events", json=AE | change)
    assert 400 <= response.status_code < 500, response.text
    assert field in response.text
    assert _count(web_store, AdverseEvent) == before


def test_a_boolean_item_is_not_scored_as_a_number(api: TestClient) -> None:
    response = api.post("/api/v1/score/pga", json={"pga": True})
    assert response.status_code == 422
    assert "PGA grade must be a whole number from 0 to 4; got True" in response.text


def test_a_huge_body_is_refused_before_it_is_read(api: TestClient) -> None:
    response = api.post("/api/v1/subjects/S01/adverse-events", json=AE | {"term": "x" * 2_000_000})
    assert response.status_code == 413


@pytest.mark.parametrize("path", ["/api/v1/history/lab/99999999999999999999",
                                  "/api/v1/history/lab/-1"])  # fmt: skip
def test_an_id_out_of_range_is_not_found(api: TestClient, path: str) -> None:
    assert api.get(path).status_code == 404


def test_a_bad_date_in_the_database_does_not_take_the_dashboard_down(
    web_store: Store, login: Callable[[str], TestClient]
) -> None:
    with web_store.engine.begin() as connection:
        connection.execute(text("UPDATE lab SET sample_date = '0001-01-01' WHERE id = 1"))
        connection.execute(text("UPDATE adverse_event SET start_date = '9999-12-31' WHERE id = 1"))
    client = login("investigator")
    for path in ("/", "/subjects/S01", "/api/v1/endpoints", "/report"):
        assert client.get(path).status_code == 200, path
