"""MultiSafepay's payment page of a redirect order (``payment_url``): the order summary and Sofort, with
a continue button on to the bank page (``/pay/{token}``). Direct orders go to the bank page at once."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.multisafepay.redirects import msp_return_url
from kasse.domain.states import PaymentState
from kasse.domain.urls import safe_http_url
from kasse.edge.request import kasse_of
from kasse.pages import kit, views
from kasse.pages.views import _render

__all__ = ["router"]

router = APIRouter(prefix="/multisafepay/pay", include_in_schema=False)
router.get("/static/{name}")(kit.static)  # the stylesheet, relative to the page as on the bank page


@router.get("/{token}")
async def payment_page(request: Request, token: str) -> Response:
    found = await run_in_threadpool(kit.lookup, kasse_of(request), token)
    explicit = request.query_params.get("lang")
    if found is None:
        return kit.not_found(kit.language(request, None, explicit))
    lang = kit.language(request, found.payment, explicit)
    if found.status is not PaymentState.REQUIRES_ACTION:
        return kit.not_open(found, lang, link=safe_http_url(msp_return_url(found.payment, found.status.value)))
    view = views.payment_view(found.payment, found.merchant_name, lang)
    # Relative to /multisafepay/pay/{token}: the bank page and the stylesheet stay under this server.
    return _render(
        "multisafepay.html", lang=lang, status=200, theme="bank", view=view,
        bank_url=f"../../pay/{found.payment.redirect_token}", cancel_url=safe_http_url(found.payment.cancel_url),
    )  # fmt: skip
