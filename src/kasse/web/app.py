"""Assembles the ASGI app: one port, every front door (DESIGN.md, "Where each front door lives")."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from kasse import __version__
from kasse.config import Settings
from kasse.delivery.worker import Deliverer
from kasse.dialects import registry
from kasse.dialects._base import Dialect
from kasse.dialects.native.errors import error_response, native_error
from kasse.dialects.native.validation import validation_error
from kasse.dialects.registry import DIALECTS
from kasse.domain.errors import DomainError
from kasse.domain.targets import TargetPolicy
from kasse.edge.auth import KeyCache
from kasse.engine.merchants import ensure_sandbox_merchant
from kasse.engine.targets import TargetGuard
from kasse.engine.unit import Kasse
from kasse.storage.db import Database
from kasse.web import metrics
from kasse.web.advances import Advances
from kasse.web.middleware import Edge
from kasse.web.routing import skip_foreign_prefixes
from kasse.web.workers import DeliveryWorker, Scheduler

__all__ = ["create_app"]


def _document_native_errors(app: FastAPI) -> None:
    """FastAPI documents its own 422 validation shape; Kasse answers 400 in the native shape instead."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    responses = operation.get("responses", {})
                    ref = str(responses.get("422", {}).get("content", {}).get("application/json", {}))
                    if "HTTPValidationError" in ref:
                        del responses["422"]
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


log = logging.getLogger(__name__)


def allowed_methods(request: Request) -> str:
    """Every method some route of this path answers (Starlette's 405 names only the first route's)."""
    routes = request.app.router.routes
    methods = {"OPTIONS"}
    for method in ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in routes):
            methods.add(method)
    return ", ".join(sorted(methods))


def create_app(
    settings: Settings | None = None, *, kasse: Kasse | None = None, dialects: Mapping[str, Dialect] = DIALECTS
) -> FastAPI:
    """The ASGI app: every dialect of ``dialects`` mounted, one engine and one delivery worker for all."""
    settings = settings or Settings.from_env()
    if kasse is None:
        database = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        kasse = Kasse(
            database,
            hooks=registry.hooks(dialects),
            group_commit=settings.group_commit,
            group_commit_max=settings.group_commit_max,
        )
    app = FastAPI(
        title="Kasse",
        summary="Stateful payment gateway and sandbox for Sofort and Klarna: the native API.",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,  # served offline by kasse.web.docs
        redoc_url=None,
        lifespan=_lifespan,
    )
    # One guard for registration (app.state.targets) and for every send (the deliverer).
    targets = TargetGuard(TargetPolicy.parse(settings.webhook_targets))
    deliverer = Deliverer(
        kasse, outbound=registry.outbound(dialects), base_url=settings.base_url, targets=targets,
        concurrency=settings.delivery_concurrency,
    )  # fmt: skip
    app.state.dialects = dialects
    app.state.targets = targets
    app.state.settings = settings
    app.state.kasse = kasse
    app.state.deliverer = deliverer
    app.state.advances = Advances(deliverer, sync_s=settings.advance_sync_s)
    app.state.key_cache = KeyCache()  # every authenticator's positive answers (kasse.edge.auth)
    app.state.metrics_registry = metrics.registry_for(kasse)
    _handle_errors(app)
    _mount(app, dialects)
    skip_foreign_prefixes(app)
    _document_native_errors(app)
    app.add_middleware(Edge, limit=settings.max_body_bytes)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Migrate, make the sandbox merchant, run the scheduler and the delivery worker (if configured)."""
    settings: Settings = app.state.settings
    kasse: Kasse = app.state.kasse
    kasse.db.migrate()
    if settings.create_sandbox_merchant:
        ensure_sandbox_merchant(kasse)
    loops = [
        Scheduler(kasse, interval_s=settings.scheduler_interval_s),
        DeliveryWorker(app.state.deliverer, interval_s=settings.scheduler_interval_s),
    ]
    if settings.run_workers:
        for loop in loops:
            loop.start()
    try:
        yield
    finally:
        for loop in loops:
            loop.stop()
        app.state.advances.close()
        app.state.deliverer.close()


def _mount(app: FastAPI, dialects: Mapping[str, Dialect]) -> None:
    from kasse.web.admin import router as admin_router
    from kasse.web.dashboard import router as dashboard_router
    from kasse.web.docs import mount_docs
    from kasse.web.health import router as health_router
    from kasse.web.home import router as home_router
    from kasse.web.pages import router as pages_router
    from kasse.web.sandbox import router as sandbox_router

    for router in (sandbox_router, admin_router, pages_router, health_router, home_router, dashboard_router):
        app.include_router(router)
    mount_docs(app)
    for dialect in dialects.values():  # each under its own mount path
        for router in (*dialect.routers, *dialect.pages):
            app.include_router(router)


async def _domain_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_error(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Errors of the framework (no route, wrong method, a body it could not decode) in the native shape."""
    assert isinstance(exc, StarletteHTTPException)
    allow = {"Allow": allowed_methods(request)} if exc.status_code == 405 else {}
    if allow and request.method == "OPTIONS":
        return Response(status_code=204, headers=allow)  # what this URL answers (RFC 9110, 9.3.7)
    codes = {400: "invalid_body", 404: "not_found", 405: "method_not_allowed"}
    message = {404: "Unrecognized request URL", 405: "Method not allowed for this URL"}.get(
        exc.status_code, str(exc.detail)
    )
    response = native_error(exc.status_code, "invalid_request_error", codes.get(exc.status_code, "http_error"), message)
    response.headers.update({**(exc.headers or {}), **allow})
    return response


async def _unexpected(_request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return native_error(500, "api_error", "internal_error", "An unexpected error occurred; it has been logged")


def _handle_errors(app: FastAPI) -> None:
    """The native shape for everything no dialect's route class answered itself."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
