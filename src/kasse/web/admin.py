"""The admin control plane (``/_admin``, the admin token): merchants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from kasse.dialects.native.errors import ERROR_RESPONSES
from kasse.dialects.native.validation import require_json
from kasse.edge.json import JSONResponse
from kasse.edge.request import kasse_of
from kasse.engine.merchants import create_merchant
from kasse.web.auth import require_admin

__all__ = ["router"]

router = APIRouter(
    prefix="/_admin",
    tags=["admin"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(require_json), Depends(require_admin)],
)


class MerchantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=200)]


@router.post("/merchants", status_code=201)
def new_merchant(request: Request, body: MerchantIn) -> JSONResponse:
    """Create a merchant; the answer holds every credential of every dialect (shown once)."""
    creds = create_merchant(kasse_of(request), name=body.name)
    return JSONResponse(creds.as_dict(), status_code=201)
