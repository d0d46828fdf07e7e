"""One study's API at ``/api/v1/studies/{code}/…``; the routes without a study deprecated.

The API's routes are written once, under ``/api/v1``. :class:`StudyPaths` takes a request
to ``/api/v1/studies/{code}/rest`` to the route ``/api/v1/rest`` and tells the access
check (:func:`pustula.web.deps.authorize`) which study it named. A request to a route
without a study works in the server's first study, for one release, and its answer says
it is deprecated (RFC 9745), when it goes (RFC 8594) and what replaces it (decision 0019).
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote, unquote

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["API_SUNSET", "STUDY_PREFIX", "StudyPaths", "study_openapi"]

STUDY_PREFIX = "/api/v1/studies/"
#: The date after which the routes without a study may be gone.
API_SUNSET = "Thu, 01 Jul 2027 00:00:00 GMT"
#: API paths that belong to no study.
_NOT_DEPRECATED = frozenset({"/api/v1/openapi.json"})


class StudyPaths:
    """Maps a study's API path to its route, and marks the routes without a study."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(STUDY_PREFIX):
            code, _, rest = path.removeprefix(STUDY_PREFIX).partition("/")
            study = unquote(code)
            scope = dict(scope)
            scope["path"] = "/api/v1/" + rest
            scope["raw_path"] = scope["path"].encode()
            scope["state"] = {**scope.get("state", {}), "study_in_path": study}
            await self.app(scope, receive, send)
            return
        if not path.startswith("/api/v1/") or path in _NOT_DEPRECATED:
            await self.app(scope, receive, send)
            return

        async def send_with_notice(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Deprecation"] = "true"
                headers["Sunset"] = API_SUNSET
                study = scope.get("state", {}).get("study_code")
                if study:
                    rest = quote(path[8:], safe="/")
                    successor = f"{STUDY_PREFIX}{quote(study, safe='')}/{rest}"
                    headers["Link"] = f'<{successor}>; rel="successor-version"'
            await send(message)

        await self.app(scope, receive, send_with_notice)


def study_openapi(app: FastAPI) -> dict[str, Any]:
    """The API description: every route under ``/api/v1/studies/{study}``, and the same
    route without a study, marked deprecated."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)  # fmt: skip
    study = {"name": "study", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "The study's id, as in its protocol (e.g. TOFA-PPP)."}  # fmt: skip
    paths: dict[str, Any] = {}
    for path, operations in schema.get("paths", {}).items():
        scoped = copy.deepcopy(operations)
        for operation in scoped.values():
            operation["parameters"] = [study, *operation.get("parameters", [])]
            operation["operationId"] = "study_" + operation.get("operationId", "")
        paths[STUDY_PREFIX + "{study}/" + path.removeprefix("/api/v1/")] = scoped
        for operation in operations.values():
            operation["deprecated"] = True
        paths[path] = operations
    schema["paths"] = paths
    app.openapi_schema = schema
    return schema
