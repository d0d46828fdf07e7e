"""The crawler the leak tests share: every GET route of the app (from its own route table,
so a new route is crawled without being listed), and the text of each answer, inside ZIP
archives and PDFs too."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pypdf import PdfReader

__all__ = ["crawl", "get_routes", "texts"]

_SKIPPED = ("logout", "login_form", "static", "openapi", "health")


def get_routes(client: TestClient) -> Iterator[APIRoute]:
    def walk(routes: list[Any]) -> Iterator[Any]:
        for route in routes:
            inner = getattr(route, "original_router", None)
            yield from walk(inner.routes) if inner is not None else [route]

    for route in walk(client.app.routes):  # type: ignore[attr-defined]
        if "GET" in (getattr(route, "methods", None) or ()) and route.name not in _SKIPPED:
            yield route


def texts(body: bytes, content_type: str = "") -> Iterator[tuple[str, str]]:
    """(part, text) of a response: itself, each file of an archive, a PDF's text."""
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for name in archive.namelist():
                yield from ((f"{name}:{p}", t) for p, t in texts(archive.read(name)))
    elif body[:5] == b"%PDF-":
        yield (
            "pdf",
            "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages),
        )
    else:
        yield "", body.decode("utf-8", errors="replace")


def crawl(
    client: TestClient,
    paths: Callable[[APIRoute], list[str]],
    hits: Callable[[str], list[str]],
) -> dict[str, list[str]]:
    """Every reachable GET answer (at the ``paths`` of each route) whose text ``hits``
    finds something in, by path and part; no answer may be a server error."""
    found: dict[str, list[str]] = {}
    for route in get_routes(client):
        for path in paths(route):
            response = client.get(path)
            assert response.status_code < 500, path
            if response.status_code >= 300:
                continue
            for part, text in texts(response.content):
                if seen := hits(text):
                    found[f"{path} {part}".strip()] = seen
    return found
