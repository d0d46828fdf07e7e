"""The app factory: ``create_app(settings)`` builds the FastAPI app on a store."""

from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from pustula import __version__
from pustula.checks.vocabulary import field_label
from pustula.errors import (
    ConfigurationError,
    ConflictError,
    LockedError,
    PustulaError,
    RandomizationError,
    RecordNotFoundError,
)
from pustula.settings import Settings, get_settings
from pustula.store import Store
from pustula.store.accounts.sessions import SessionPolicy, Throttle
from pustula.store.services.clinical import holds_synthetic_data
from pustula.store.services.trial import holds_randomized_study
from pustula.web import (
    amendments,
    api,
    api_casebook,
    api_monitoring,
    auth,
    casebook,
    downloads,
    evidence,
    health,
    interim,
    invitations,
    metrics,
    monitoring,
    pages,
    patient,
    photos,
    quality,
    report,
    route_index,
    screening,
    studies,
    throughput,
    trial,
)
from pustula.web.deps import AuthRequired, StudyRequired
from pustula.web.metrics import RequestMetrics
from pustula.web.middleware import MAX_BODY_BYTES, BodyLimit, SecurityHeaders
from pustula.web.patient import loggable_path
from pustula.web.render import render
from pustula.web.study_paths import StudyPaths, study_openapi
from pustula.web.visit_form import load_dlqi_wording

__all__ = ["API_ROUTERS", "app_from_env", "create_app"]

API_ROUTERS = (
    api.router,
    api_casebook.router,
    api_monitoring.router,
    trial.api_router,
    invitations.api_router,
    photos.api_router,
)


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, demo: bool = False
) -> FastAPI:
    """Build the app. Outside demo mode a secret key setting (PUSTULA_SECRET_KEY) is required."""
    settings = settings or get_settings()
    if store is None:
        store = Store.open(settings.database_url)
        store.create_schema()
    secret = check_secret_key(settings.secret_key, demo=demo)
    app = FastAPI(
        title="Pustula API",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        description="Palmoplantar pustulosis studies: subjects, visits, assessments, AEs, labs, "
        "endpoints and exports. Bearer token or session + X-CSRF-Token.",
    )
    app.state.store = store
    app.state.throttle = Throttle()
    app.state.session_policy = SessionPolicy(
        idle=settings.session_idle_minutes * 60.0, absolute=settings.session_hours * 3600.0
    )
    app.state.demo = demo
    app.state.dlqi_wording = load_dlqi_wording(settings.dlqi_wording_file)
    app.state.synthetic = holds_synthetic_data(store)
    app.state.randomized = holds_randomized_study(store)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="pustula_session",
        max_age=int(settings.session_hours * 3600),
        same_site="strict",
        https_only=settings.secure_cookies,
    )

    app.mount("/static", StaticFiles(packages=[("pustula.web", "static")]), name="static")
    routers = (
        health.router,
        metrics.router,
        auth.router,
        studies.router,
        amendments.router,
        *API_ROUTERS,
        screening.router,
        casebook.router,
        downloads.router,
        evidence.router,
        monitoring.router,
        trial.router,
        interim.router,
        quality.router,
        invitations.router,
        photos.router,
        patient.router,
        report.router,
        pages.router,
    )
    for router in routers:
        app.include_router(router)
    route_index.install(app)
    _summaries(app)
    app.openapi = lambda: study_openapi(app)  # type: ignore[method-assign]
    throughput.install(app, settings, routers)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics)
    app.add_middleware(BodyLimit, uploads=int(settings.photo_max_mb * 2_000_000) + MAX_BODY_BYTES)
    # outermost: every other layer sees a study's API path as the route it maps to
    app.add_middleware(StudyPaths)
    _handlers(app)
    return app


log = logging.getLogger(__name__)

#: A session-signing key shorter than this can be guessed offline from one cookie.
MIN_SECRET_BYTES = 32


def check_secret_key(secret: str | None, *, demo: bool) -> str:
    """The key that signs session cookies: at least 32 bytes; demo mode makes a random one."""
    if not secret:
        if demo:
            return secrets.token_urlsafe(32)
        raise ConfigurationError(
            "set PUSTULA_SECRET_KEY (at least 32 random bytes, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`) to sign sessions"
        )
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"PUSTULA_SECRET_KEY is {len(secret.encode('utf-8'))} bytes; it needs at least "
            f"{MIN_SECRET_BYTES} random bytes"
        )
    return secret


def app_from_env() -> FastAPI:
    """The app from the environment's settings: ``uvicorn --factory pustula.web.app:app_from_env``.

    Used for several worker processes, which each build their own app and engine.
    """
    import os

    from pustula.web.logs import configure_logging

    configure_logging(get_settings().log_format)
    return create_app(demo=os.environ.get("PUSTULA_DEMO") == "1")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _summaries(app: FastAPI) -> None:
    """API summaries from each route's docstring (its first line), never from its name."""
    from fastapi.routing import APIRoute

    for route in app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            doc = (route.endpoint.__doc__ or "").strip()
            if doc:
                first, _, rest = doc.partition("\n")
                route.summary = first.strip()
                route.description = rest.strip()


def _page_message(exc: PustulaError) -> str:
    """What a page says about a refused request: in words, never a table or field name."""
    if isinstance(exc, RecordNotFoundError):
        return (
            "This record was not found. It may have been removed, or it belongs to another "
            "subject or site."
        )
    field = getattr(exc, "field", None)
    message = exc.message
    if field and message.startswith(f"{field}: "):
        message = f"{field_label(field)}: {message.removeprefix(f'{field}: ')}"
    return message


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(AuthRequired)
    async def auth_required(request: Request, _exc: AuthRequired) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"error": "unauthenticated", "detail": "Sign in or send a bearer token."},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(StudyRequired)
    async def study_required(request: Request, _exc: StudyRequired) -> Response:
        return RedirectResponse("/studies", status_code=303)

    @app.exception_handler(PustulaError)
    async def pustula_error(request: Request, exc: PustulaError) -> Response:
        status = (
            404
            if isinstance(exc, RecordNotFoundError)
            else 409
            if isinstance(exc, ConflictError | RandomizationError)
            else 423
            if isinstance(exc, LockedError)
            else 422
        )
        if _is_api(request):
            body = {"error": exc.code, "detail": exc.message, "field": getattr(exc, "field", None)}
            errors = getattr(exc, "errors", None)
            if errors:
                body["errors"] = errors
            return JSONResponse(body, status_code=status)
        return render(request, "error.html", status_code=status, message=_page_message(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # the details go to the server's log (no values typed into forms), never to a page
        log.error(
            "unexpected %s on %s %s",
            type(exc).__name__,
            request.method,
            loggable_path(request.url.path),
        )
        message = (
            "Something went wrong on the server; nothing was saved by this request. "
            "Try again, and tell the study's data manager if it happens again."
        )
        if _is_api(request):
            return JSONResponse({"error": "internal", "detail": message}, status_code=500)
        return render(request, "error.html", status_code=500, message=message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"error": "http", "detail": exc.detail}, status_code=exc.status_code
            )
        return render(request, "error.html", status_code=exc.status_code, message=str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"error": "request_invalid", "detail": problems}, status_code=422)
