"""MultiSafepay's payment page of a redirect order (``payment_url``): the order summary and the method —
Sofort, to choose when the order named no ``gateway`` — with a continue button. Continuing
(``/multisafepay/pay/{token}/start?gateway=DIRECTBANK``) starts the Sofort transaction: from then on
the order expires 1 day later (Sofort's lifetime), whatever ``days_active`` gave the page, and the
customer goes on to the bank page (``/pay/{token}``). Direct orders go to the bank page at once."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kasse.dialects.multisafepay.data import MspOrderData
from kasse.dialects.multisafepay.redirects import msp_return_url
from kasse.dialects.multisafepay.translate import GATEWAY
from kasse.domain.errors import DomainError
from kasse.domain.rules import DAY_S
from kasse.domain.states import PaymentState
from kasse.domain.urls import safe_http_url
from kasse.edge.request import kasse_of
from kasse.engine import payments
from kasse.engine.unit import Kasse, Tx
from kasse.pages import kit, views
from kasse.pages.views import _render

__all__ = ["router"]

router = APIRouter(prefix="/multisafepay/pay", include_in_schema=False)
router.get("/static/{name}")(kit.static)  # the stylesheet and icons, relative to the page as on the bank page

METHODS = ({"id": GATEWAY, "name": "Sofort"},)


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
    # Relative to /multisafepay/pay/{token}: the next steps and the stylesheet stay under this server.
    return _render(
        "multisafepay.html", lang=lang, status=200, theme="bank", view=view,
        choose=not MspOrderData.of(found.payment).gateway, methods=METHODS, icon_url="static/sofort.svg",
        start_url=f"{token}/start", cancel_url=safe_http_url(found.payment.cancel_url),
    )  # fmt: skip


def _start(tx: Tx, payment_id: str) -> None:
    """The customer goes on to Sofort: once, the method is recorded and Sofort's day begins."""
    payment = tx.store.get_payment(merchant_id=tx.merchant_id, payment_id=payment_id)
    data = None if payment is None else MspOrderData.of(payment)
    if data is None or data.type == "direct" or data.bank_reached_at is not None:
        return  # a direct order was at the bank from its creation
    started = {"gateway": GATEWAY, "bank_reached_at": tx.now.isoformat()}
    payments.update_details(tx, payment_id, provider_data=started)
    payments.extend_expiry(tx, payment_id, by_s=DAY_S)


def _go_on(kasse: Kasse, merchant_id: str, payment_id: str) -> bool:
    try:
        kasse.run(merchant_id, _start, payment_id)
    except DomainError:  # no longer open (paid in another tab, expired meanwhile)
        return False
    return True


@router.get("/{token}/start")
async def start_sofort(request: Request, token: str) -> Response:
    kasse = kasse_of(request)
    found = await run_in_threadpool(kit.lookup, kasse, token)
    if found is None or request.query_params.get("gateway", GATEWAY).upper() != GATEWAY:
        return kit.not_found(kit.language(request, None, request.query_params.get("lang")))
    if found.status is PaymentState.REQUIRES_ACTION:
        if await run_in_threadpool(_go_on, kasse, found.payment.merchant_id, found.payment.id):
            # Relative to /multisafepay/pay/{token}/start: the bank page of this server.
            return RedirectResponse(f"../../../pay/{token}", status_code=303)
        found = await run_in_threadpool(kit.lookup, kasse, token) or found
    lang = kit.language(request, found.payment, request.query_params.get("lang"))
    return kit.not_open(found, lang, link=safe_http_url(msp_return_url(found.payment, found.status.value)))
