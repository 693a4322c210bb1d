"""The sandbox's hand on the purchase journey, for tests without a browser:
``POST /_sandbox/klarna/payment_requests/{payment_request_id}/approve`` (optional body ``{"email": …}``,
a Klarna sample customer: a ``+denied`` address declines) and ``…/decline``. Authenticated like the rest
of ``/_sandbox`` (``Bearer <secret key>``) or like the Klarna API (``Basic <API key>``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.klarna import requests
from kasse.dialects.klarna.errors import UNAUTHORIZED, KlarnaError
from kasse.dialects.klarna.schemas import WireModel, parse
from kasse.dialects.klarna.translate import request_out
from kasse.dialects.klarna.wire import Account, Body, KlarnaRoute, authenticate
from kasse.edge.auth import Authenticator, Presented, bearer, merchant_of_secret_key
from kasse.edge.json import JSONResponse
from kasse.edge.request import base_url, kasse_of

__all__ = ["router"]

router = APIRouter(prefix="/_sandbox/klarna/payment_requests", route_class=KlarnaRoute, include_in_schema=False)


def _refused(*_: Presented) -> Exception:
    return KlarnaError(UNAUTHORIZED, "Send the merchant's secret key (Bearer) or its Klarna API key (Basic)")


_secret_key = Authenticator[str]("secret_key", (bearer,), merchant_of_secret_key, _refused, _refused)


async def _merchant(request: Request) -> str:
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return await _secret_key(request)
    account: Account = await authenticate(request)
    return account.merchant_id


MerchantId = Annotated[str, Depends(_merchant)]


class ApproveIn(WireModel):
    email: Annotated[str, Field(max_length=254)] | None = None


@router.post("/{payment_request_id}/approve")
def approve(request: Request, payment_request_id: str, merchant_id: MerchantId, payload: Body) -> Response:
    body = parse(ApproveIn, payload)
    done = kasse_of(request).run(merchant_id, requests.approve, payment_request_id, email=body.email)
    return JSONResponse(request_out(done, base_url(request)))


@router.post("/{payment_request_id}/decline")
def decline(request: Request, payment_request_id: str, merchant_id: MerchantId) -> Response:
    done: Any = kasse_of(request).run(merchant_id, requests.decline, payment_request_id)
    return JSONResponse(request_out(done, base_url(request)))
