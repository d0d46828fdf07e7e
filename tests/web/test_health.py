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


def test_ready_says_ready_when_the_database_and_the_photo_folder_are_there(
    app: FastAPI,
) -> None:
    with TestClient(app) as client:
        answer = client.get("/ready")
    assert answer.status_code == 200 and answer.json()["status"] == "ready"
    assert answer.headers["cache-control"] == "no-store"


def test_ready_is_503_with_the_problems_when_the_schema_is_behind_or_files_cannot_be_written(
    app: FastAPI, web_store: Store
) -> None:
    import shutil

    from pustula.store.db.migrate import downgrade, head_revision

    root = web_store.files.root
    shutil.rmtree(root, ignore_errors=True)
    root.write_text("a file where the photographs' folder should be")
    downgrade(web_store.engine, "0012")
    with TestClient(app) as client:
        answer = client.get("/ready")
    assert answer.status_code == 503
    problems = answer.json()["problems"]
    assert f"this Pustula needs {head_revision()}" in problems[0]
    assert "cannot be written" in problems[1] and str(root) not in " ".join(problems)
