"""FastAPI dependencies: the store, the signed-in principal, and the one access check."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from pustula.protocol import Protocol
from pustula.store import Store
from pustula.store.accounts.sessions import SessionPolicy, session_hash, touch_session
from pustula.store.accounts.users import api_token_hash
from pustula.store.monitoring.queries import RequestScope, Timeline, request_scope, subject_timeline
from pustula.store.records.views import SubjectView
from pustula.store.services.monitoring import refuse_writes_if_locked
from pustula.web.access import ROUTE_PERMISSIONS, STUDY_FREE_ROUTES, Principal
from pustula.web.security import csrf_valid, same_origin
from pustula.web.throughput import prefetches_record

__all__ = [
    "AuthRequired",
    "StudyRequired",
    "authorize",
    "get_store",
    "principal_of",
    "scoped_protocol",
    "scoped_subject",
    "scoped_timeline",
]

E = TypeVar("E", bound=Callable[..., Any])
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuthRequired(Exception):  # noqa: N818 (a signal, handled as a redirect or 401)
    """No valid session or token: pages redirect to the login form, the API answers 401."""


def get_store(request: Request) -> Store:
    """The store, scoped to the request's study once :func:`authorize` has found it."""
    store: Store = getattr(request.state, "store", None) or request.app.state.store
    return store


class StudyRequired(Exception):  # noqa: N818 (a signal, handled as a redirect)
    """A page of a study the user holds no role in (or of none): they choose a study first."""


def _scope(
    store: Store,
    session_id: str | None,
    token: str | None,
    code: str | None,
    whole_record: bool,
    policy: SessionPolicy,
    study: str | None = None,
) -> tuple[RequestScope, Timeline | None] | None:
    """The signed-in user, their role in the study, the subject in the path with its site,
    and its record if asked."""
    token_hash = None if token is None else api_token_hash(token)
    if token is not None and token_hash is None:
        return None
    sid_hash = None if token is not None or session_id is None else session_hash(session_id)
    now = time.time()
    with store.read_connection() as connection:
        scope = request_scope(
            connection, token_hash=token_hash, session_hash=sid_hash, subject_code=code,
            study_code=study, now=now, policy=policy,
        )  # fmt: skip
        if scope is not None and sid_hash is not None and scope.session_last_seen is not None:
            touch_session(store, sid_hash, scope.session_last_seen, now)
        if scope is None or scope.subject is None or not whole_record:
            return None if scope is None else (scope, None)
        if not _principal(scope).sees_site(scope.site or ""):
            return scope, None
        return scope, subject_timeline(connection, scope.subject, site=scope.site)


def _principal(scope: RequestScope) -> Principal:
    user = scope.user
    study = None if scope.study is None else scope.study.code
    return Principal(
        user.id, user.username, user.role, tuple(user.sites), study, scope.server_admin
    )


def _study_asked(request: Request, name: str | None) -> str | None:
    """The study a request works in: the one in the path (``/api/v1/studies/{study}/…``),
    else the one chosen in the signed-in browser's session; None means the server's first
    study (an API token on the routes without a study, kept for one release)."""
    if name in STUDY_FREE_ROUTES:
        return None
    in_path = request.scope.get("state", {}).get("study_in_path")
    if isinstance(in_path, str):
        return in_path
    if request.url.path.startswith("/api/") and _bearer(request) is not None:
        return None
    chosen = request.session.get("study")
    return chosen if isinstance(chosen, str) else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


#: The API's writes of a subject's clinical data: a lock refuses them before their input
#: is validated. (Sign-off, SDV and queries have rules of their own.)
LOCKED_WRITES = frozenset({
    "api_visit_create", "api_assessment_update", "api_adverse_event_create",
    "api_adverse_event_update", "api_lab_create", "api_lab_update", "api_lab_remove",
    "api_conmed_create", "api_conmed_update", "api_conmed_remove", "api_exposure_create",
    "api_dose_change", "api_interruption_create", "api_interruption_end",
    "api_exposure_stop", "api_visit_missed", "api_visit_date", "api_rescreen",
    "api_withdrawal",
})  # fmt: skip


async def authorize(request: Request) -> Principal:
    """Authenticate, check the route's permission, CSRF on unsafe requests, and site scope.

    A subject in the path that the user's sites do not include answers 404, so that other
    sites' subject codes cannot be probed.
    """
    store: Store = request.app.state.store
    token = _bearer(request)
    session_id = None if token else request.session.get("sid")
    code = request.path_params.get("code")
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    whole_record = prefetches_record(request.app, getattr(route, "endpoint", None))
    policy: SessionPolicy = request.app.state.session_policy
    found = await run_in_threadpool(
        _scope, store, session_id if isinstance(session_id, str) else None, token, code,
        whole_record, policy, _study_asked(request, name),
    )  # fmt: skip
    if found is None:
        raise AuthRequired()
    scope, timeline = found
    principal = _principal(scope)
    study_free = name in STUDY_FREE_ROUTES
    if not study_free and (scope.study is None or not principal.role):
        # a study that does not exist and one the user holds no role in look the same
        if request.url.path.startswith("/api/"):
            asked = request.scope.get("state", {}).get("study_in_path")
            raise HTTPException(
                status_code=404,
                detail=f"No study {asked}." if asked else "You hold no role in a study here.",
            )
        raise StudyRequired()
    needed = ROUTE_PERMISSIONS.get(name or "")
    if needed is None or not principal.can(needed):
        raise HTTPException(status_code=403, detail="Your role does not allow this.")
    if request.method in UNSAFE and token is None:
        if not same_origin(request):
            raise HTTPException(status_code=403, detail="This request came from another site.")
        sent = request.headers.get("x-csrf-token")
        if sent is None and "form" in request.headers.get("content-type", ""):
            form = await request.form()
            value = form.get("csrf")
            sent = value if isinstance(value, str) else None
        # a form carries its study in its token: one opened in another study is refused
        # (the switcher's forms are in every page's header, whichever study is open)
        bound = request.session.get("study") if study_free else principal.study
        if not csrf_valid(request.session, sent, bound if isinstance(bound, str) else None) and (
            not study_free or not csrf_valid(request.session, sent)
        ):
            raise HTTPException(
                status_code=403,
                detail="The form expired, or it belongs to another study than the one open "
                "now; reload the page and try again.",
            )
    if not study_free and scope.study is not None:
        request.state.study = scope.study
        request.state.store = store.for_study(scope.study.code)
        request.state.study_code = scope.study.code
        if (
            token is None
            and not request.url.path.startswith("/api/")
            and (request.session.get("study") != scope.study.code)
        ):
            request.session["study"] = scope.study.code
    if code is not None:
        if scope.subject is None or not principal.sees_site(scope.site or ""):
            raise HTTPException(status_code=404, detail=f"No subject {code}.")
        request.state.subject, request.state.site = scope.subject, scope.site
        request.state.protocol, request.state.timeline = scope.protocol, timeline
        if request.method in UNSAFE and name in LOCKED_WRITES:
            # before the body is read: a locked record is "locked", whatever was sent
            await run_in_threadpool(refuse_writes_if_locked, request.state.store, scope.subject.id)
    request.state.principal = principal
    request.state.token_auth = token is not None
    return principal


def principal_of(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def scoped_protocol(request: Request) -> Protocol:
    """The protocol of the study of the subject in the path."""
    protocol: Protocol = request.state.protocol
    return protocol


def scoped_timeline(request: Request) -> Timeline:
    """The whole record of the subject in the path: read by the access check when
    :func:`pustula.web.throughput.reads_whole_record` applies, else read here."""
    timeline: Timeline | None = getattr(request.state, "timeline", None)
    if timeline is None:
        with get_store(request).read_connection() as connection:
            timeline = subject_timeline(connection, request.state.subject, site=request.state.site)
        request.state.timeline = timeline
    return timeline


def scoped_subject(request: Request) -> SubjectView:
    subject: SubjectView = request.state.subject
    return subject
