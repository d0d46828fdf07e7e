"""A liveness check for load balancers and monitoring: ``GET /health``.

It answers without touching the database, through the same middleware as every page
(security headers, body limit, the read slots of :mod:`pustula.web.throughput`), so the
web load benchmark also uses it as its baseline: what the app costs with no work in it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pustula import __version__

__all__ = ["router"]

router = APIRouter()


@router.get("/health", include_in_schema=False)
async def health() -> JSONResponse:
    """The app is up (it says nothing of the database: ``pustula audit verify`` does)."""
    return JSONResponse({"status": "ok", "version": __version__})
