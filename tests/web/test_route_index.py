"""The route index finds every request's route exactly as FastAPI's own matching does."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, _IncludedRouter
from starlette.routing import Match

from pustula.web.route_index import IndexedRouter, install, union_of

SAMPLE = {"int": "7", "path": "a/b"}


def _sample_path(route: APIRoute) -> str:
    """A concrete path for ``route``: each parameter filled with a value it accepts."""
    return re.sub(
        r"{(\w+)(?::(\w+))?}", lambda m: SAMPLE.get(m.group(2) or "", "S01"), route.path_format
    )


def _api_routes(app: FastAPI) -> list[APIRoute]:
    found = []
    for route in app.router.routes:
        if isinstance(route, _IncludedRouter):
            found += [r for r in route.original_router.routes if isinstance(r, APIRoute)]
    return found


def _scope(path: str, method: str) -> dict[str, object]:
    return {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}


def test_every_included_router_of_the_app_is_indexed(app: FastAPI) -> None:
    included = [r for r in app.router.routes if isinstance(r, _IncludedRouter)]

    assert included and all(isinstance(r, IndexedRouter) for r in included)
    assert all(r._pattern() is not None for r in included)


def test_each_router_answers_every_path_of_the_app_as_fastapi_would(app: FastAPI) -> None:
    routers = [r for r in app.router.routes if isinstance(r, IndexedRouter)]
    paths = {_sample_path(r) for r in _api_routes(app)} | {"/nowhere", "/subjects/S01/x/y/z"}
    compared = 0
    for path in sorted(paths):
        for method in ("GET", "POST", "DELETE"):
            for router in routers:
                indexed = router.matches(_scope(path, method))
                plain = _IncludedRouter.matches(router, _scope(path, method))
                assert indexed[0] == plain[0], (path, method)
                compared += 1
    assert compared > 500


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/subjects/new", "enrol_form"),
        ("/subjects/S01", "timeline"),
        ("/subjects/S01/visits/new", "visit_form"),
        ("/health", "health"),
    ],
)
def test_the_first_router_in_order_still_answers(app: FastAPI, path: str, endpoint: str) -> None:
    # /subjects/new is also a code for /subjects/{code}: the earlier router must win
    scope = _scope(path, "GET")
    first = next(r for r in app.router.routes if r.matches(scope)[0] == Match.FULL)
    _, _, route, _ = first._match(scope)
    assert route.endpoint.__name__ == endpoint


def test_a_router_added_to_after_the_index_is_built_is_found() -> None:
    router = APIRouter()
    router.add_api_route("/first", lambda: "first")
    app = FastAPI()
    app.include_router(router)
    assert install(app) == 1
    indexed = app.router.routes[-1]
    assert indexed.matches(_scope("/later", "GET"))[0] == Match.NONE

    router.add_api_route("/later", lambda: "later")

    assert indexed.matches(_scope("/later", "GET"))[0] == Match.FULL


def test_a_router_that_includes_routers_is_not_shortcut() -> None:
    inner, outer = APIRouter(), APIRouter()
    inner.add_api_route("/inner", lambda: "inner")
    outer.include_router(inner)
    app = FastAPI()
    app.include_router(outer)
    install(app)
    indexed = app.router.routes[-1]

    assert union_of(indexed.effective_candidates()) is None
    assert indexed.matches(_scope("/inner", "GET"))[0] == Match.FULL
