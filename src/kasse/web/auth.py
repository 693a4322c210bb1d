"""Authentication of the admin control plane (``/_admin``); merchants authenticate through the edge kit
(``kasse.edge.auth``, the native API's ``kasse.dialects.native.auth``)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import Request

from kasse.domain.errors import Unauthenticated
from kasse.edge.auth import bearer_token
from kasse.edge.request import settings_of

__all__ = ["require_admin"]

# Declared for the OpenAPI document; the check below reads the header itself for exact errors.
_ADMIN_TOKEN = HTTPBearer(auto_error=False, scheme_name="admin_token", description="KASSE_ADMIN_TOKEN")
AdminToken = Annotated[HTTPAuthorizationCredentials | None, Security(_ADMIN_TOKEN)]


async def require_admin(request: Request, _declared: AdminToken = None) -> None:
    token = bearer_token(request)
    expected = settings_of(request).admin_token
    if token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthenticated("This endpoint needs the admin token: 'Authorization: Bearer <KASSE_ADMIN_TOKEN>'")
