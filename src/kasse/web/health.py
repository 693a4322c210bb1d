"""``/healthz`` (liveness plus a database round trip) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from kasse import __version__
from kasse.edge.json import JSONResponse
from kasse.edge.request import kasse_of
from kasse.web import metrics

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    kasse = kasse_of(request)
    try:
        with kasse.db.transaction(write=False) as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # report, don't raise: a health check answers
        return JSONResponse({"status": "error", "database": str(exc.__class__.__name__)}, status_code=503)
    backend = "sqlite" if kasse.db.is_sqlite else "postgresql"
    return JSONResponse({"status": "ok", "version": __version__, "database": backend})


@router.get("/metrics")
def prometheus(request: Request) -> Response:
    return Response(metrics.render(request.app.state.metrics_registry), media_type=metrics.CONTENT_TYPE)
