"""What Stripe answers for a URL it does not know, or a method a known URL does not take: a 404
``invalid_request_error`` "Unrecognized request URL (GET: /v1/…)" (stripe-python raises
``InvalidRequestError``). Mounted after every other Stripe router, so it only sees what they did not match."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.stripe.errors import stripe_error
from kasse.dialects.stripe.wire import StripeRoute

__all__ = ["router"]

router = APIRouter(prefix="/stripe", route_class=StripeRoute, include_in_schema=False)
_METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]


@router.api_route("/{path:path}", methods=_METHODS)
def unrecognized(request: Request, path: str) -> Response:
    return stripe_error(
        404, "invalid_request_error", None,
        f"Unrecognized request URL ({request.method}: /{path}). Please see https://stripe.com/docs or we can help "
        "at https://support.stripe.com/.",
    )  # fmt: skip
