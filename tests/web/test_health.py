"""``GET /health``: up or not, with no database work (the web benchmark's baseline)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from pustula import __version__
from pustula.store import Store


def test_health_answers_without_signing_in_or_reading_the_database(
    app: FastAPI, web_store: Store
) -> None:
    statements: list[str] = []
    event.listen(web_store.engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))  # fmt: skip
    with TestClient(app) as client:
        statements.clear()  # start-up may read; the request itself must not
        answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "version": __version__}
    assert statements == []


def test_health_goes_through_the_same_middleware_as_pages(app: FastAPI) -> None:
    with TestClient(app) as client:
        health = client.get("/health")
        login = client.get("/login")
    for header in ("content-security-policy", "x-content-type-options", "x-frame-options"):
        assert header in health.headers
        assert health.headers[header] == login.headers[header]
