"""Liveness and readiness for load balancers and monitoring: ``GET /health`` and
``GET /ready``.

It answers without touching the database, through the same middleware as every page
(security headers, body limit, the read slots of :mod:`pustula.web.throughput`), so the
web load benchmark also uses it as its baseline: what the app costs with no work in it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pustula import __version__
from pustula.store.services.operations import readiness
from pustula.web.deps import get_store

__all__ = ["router"]

router = APIRouter()


@router.get("/health", include_in_schema=False)
async def health() -> JSONResponse:
    """The app is up (it says nothing of the database: ``pustula audit verify`` does)."""
    return JSONResponse({"status": "ok", "version": __version__})


@router.get("/ready", include_in_schema=False)
async def ready(request: Request) -> JSONResponse:
    """Ready to take requests: the database answers at the expected schema and the
    photographs' folder can be written (503 with the problems otherwise)."""
    problems = await run_in_threadpool(readiness, get_store(request))
    if problems:
        return JSONResponse({"status": "not ready", "problems": problems}, status_code=503,
                            headers={"Cache-Control": "no-store"})  # fmt: skip
    return JSONResponse({"status": "ready", "version": __version__},
                        headers={"Cache-Control": "no-store"})  # fmt: skip
