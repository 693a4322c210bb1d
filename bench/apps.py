"""Baseline applications served by the same uvicorn settings as `kasse serve` (as many worker processes as `kasse serve` starts, log level info).

(a) ``starlette_app``: one route answering a small JSON body (``GET /json``).
(b) ``fastapi_app``: one route parsing a 10-field JSON body into a Pydantic model (``POST /model``).
Both answer ``GET /healthz`` so the harness can wait for them like for Kasse.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SMALL = {"id": "pay_0123456789abcdef", "object": "payment", "status": "requires_action", "amount": 1000}


async def _json(request: Request) -> JSONResponse:
    return JSONResponse(SMALL)


starlette_app = Starlette(routes=[Route("/json", _json), Route("/healthz", _json)])


class TenFields(BaseModel):
    amount: int
    currency: str
    method: str
    country: str
    return_url: str
    cancel_url: str
    description: str
    reference: str
    capture: str
    expires_in: int


fastapi_app = FastAPI()


@fastapi_app.post("/model", status_code=201)
def _model(body: TenFields) -> dict[str, object]:
    # A sync route, like Kasse's: FastAPI runs it in the thread pool.
    return {"id": "pay_0123456789abcdef", "object": "payment", "amount": body.amount, "currency": body.currency}


@fastapi_app.get("/healthz")
def _health() -> dict[str, str]:
    return {"status": "ok"}
