"""Finding a request's route without asking every router in turn.

FastAPI (0.165, pinned in uv.lock) asks each included router in turn whether one of its
routes matches, and each asks every route, at a few microseconds a route. The app has
about 190 routes and the subject page's router comes last (its ``/subjects/{code}`` must
not shadow the more specific paths before it), so finding that page took about half a
millisecond: a fifth of the page's own time (profile in ``benchmarks/README.md``).

:func:`install` gives each included router one compiled pattern, the union of its routes'
path patterns. A path the pattern does not match skips that router after one regular
expression search; a path it matches is handed to FastAPI's own matching as before. The
order of the routers, and so which route answers a request (including "method not
allowed" and the trailing-slash redirect), is unchanged: ``tests/web/test_route_index.py``
resolves every route's path both ways.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.routing import _IncludedRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

__all__ = ["IndexedRouter", "install"]

_NAMED_GROUP = re.compile(r"\(\?P<[^>]+>")


@dataclass
class IndexedRouter(_IncludedRouter):
    """An included router that first checks the path against the union of its routes'
    patterns; rebuilt when the router's routes change."""

    _union: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _union_version: int | None = field(default=None, repr=False, compare=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            union = self._pattern()
            if union is not None and union.match(get_route_path(scope)) is None:
                return Match.NONE, {}
        return super().matches(scope)

    def _pattern(self) -> re.Pattern[str] | None:
        # a router whose routes include routers has no union (see union_of)
        version = self.original_router._routes_version
        if version != self._union_version:
            self._union = union_of(self.effective_candidates())
            self._union_version = version
        return self._union


def union_of(candidates: list[Any]) -> re.Pattern[str] | None:
    """One pattern matching every path one of ``candidates`` could match; None (no
    shortcut) if a candidate's paths cannot be told from a pattern."""
    patterns = []
    for candidate in candidates:
        route = getattr(candidate, "starlette_route", None) or candidate
        regex = getattr(candidate, "path_regex", None) or getattr(route, "path_regex", None)
        if regex is None:
            return None
        # the same group name may appear in several routes; the union needs no captures
        patterns.append(f"(?:{_NAMED_GROUP.sub('(?:', regex.pattern)})")
    if not patterns:
        return None
    return re.compile("|".join(dict.fromkeys(patterns)))


def install(app: FastAPI) -> int:
    """Index every router included in ``app``; how many were indexed."""
    routes = app.router.routes
    indexed = 0
    for i, route in enumerate(routes):
        if type(route) is _IncludedRouter:
            routes[i] = IndexedRouter(
                original_router=route.original_router, include_context=route.include_context
            )
            indexed += 1
    return indexed
