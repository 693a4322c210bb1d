"""The interactive API reference, served from Kasse itself: Swagger UI comes from the
``fastapi-offline`` distribution (their MIT / Apache-2.0 licences ship with it), never from a CDN, so
``/api/docs`` works on a machine without internet."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

__all__ = ["ASSETS", "mount_docs"]

ASSETS = "/api/docs-assets"
_STATIC = Path(fastapi_offline.__file__).parent / "static"


def mount_docs(app: FastAPI) -> None:
    """``/api/docs`` (Swagger UI) on assets under ``/api/docs-assets``. No ReDoc page: its bundle loads a
    logo from Redocly's CDN."""
    app.mount(ASSETS, StaticFiles(directory=_STATIC), name="docs-assets")
    openapi_url = str(app.openapi_url)

    @app.get("/api/docs", include_in_schema=False)
    def swagger(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title="Kasse API reference",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            # No badge from the public validator service: nothing may leave the machine.
            swagger_ui_parameters={"validatorUrl": None},
        )  # fmt: skip
