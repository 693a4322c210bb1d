"""HTTP of the hosted pages: ``GET /pay/{token}`` shows the bank or Klarna page, ``POST /pay/{token}``
carries the customer's answer to the engine and sends them back to the shop.

The app's exception handlers answer in JSON for API clients; a customer's browser gets HTML, so every
error of these routes (unknown token, bad CSRF value, payment no longer open) is answered here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from kasse.dialects._base import return_url_for
from kasse.domain.clock import MerchantClock, utc
from kasse.domain.errors import DomainError
from kasse.domain.models import Payment
from kasse.domain.states import PaymentState
from kasse.edge.request import kasse_of
from kasse.engine import merchants, payments
from kasse.engine.unit import Kasse, Tx
from kasse.web.i18n import pick_language, translator
from kasse.web.pages import security, views

__all__ = ["router"]

router = APIRouter(prefix="/pay", include_in_schema=False)

ACTIONS: dict[str, Callable[[Tx, str], Payment]] = {
    "approve": payments.authorize,
    "decline": payments.decline,
    "cancel": partial(payments.cancel, reason="requested_by_customer"),
}
_MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Found:
    payment: Payment
    merchant_name: str
    status: PaymentState  # as the customer should see it (see shown_status)


@dataclass(frozen=True, slots=True)
class Acted:
    found: Found
    changed: bool


def shown_status(payment: Payment, now: datetime) -> PaymentState:
    """The expiry timer fires on the scheduler's next tick; until it has, the deadline already counts
    for the customer, so a page left open past it cannot be approved."""
    if payment.status is PaymentState.REQUIRES_ACTION and now >= utc(payment.expires_at):
        return PaymentState.EXPIRED
    return payment.status


def lookup(kasse: Kasse, token: str) -> Found | None:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    with kasse.read() as store:
        payment = store.find_payment_by_token(token)
        merchant = None if payment is None else store.get_merchant(merchant_id=payment.merchant_id)
    if payment is None or merchant is None:
        return None
    now = MerchantClock(merchant.clock_offset_us, merchant.clock_frozen_at).now(kasse.wall())
    return Found(payment, merchant.name, shown_status(payment, now))


def perform(kasse: Kasse, token: str, action: str) -> Acted | None:
    """Run the customer's answer in one unit of work. Anything the engine refuses (a double submit,
    the expiry timer or the merchant's cancel winning a race) leaves the payment as it is."""
    found = lookup(kasse, token)
    if found is None or found.status is not PaymentState.REQUIRES_ACTION:
        return None if found is None else Acted(found, changed=False)
    try:
        with kasse.unit(merchant_id=found.payment.merchant_id) as tx:
            payment = ACTIONS[action](tx, found.payment.id)
    except DomainError:
        again = lookup(kasse, token)
        return None if again is None else Acted(again, changed=False)
    return Acted(Found(payment, found.merchant_name, payment.status), changed=True)


def _language(request: Request, payment: Payment | None, explicit: object) -> str:
    locale = payment.customer.get("locale") if payment is not None else None
    return pick_language(
        query=explicit if isinstance(explicit, str) else None,
        customer_locale=locale if isinstance(locale, str) else None,
        accept_language=request.headers.get("accept-language"),
        country=payment.country if payment is not None else None,
    )


def _not_found(lang: str) -> Response:
    t = translator(lang)
    return views.message_page(lang=lang, status=404, title=t("not_found_title"), body=t("not_found_body"), tone="error")


def _not_open(request: Request, found: Found, lang: str) -> Response:
    t = translator(lang)
    status = found.status.value
    return views.message_page(
        lang=lang, status=409, title=t("not_open_title"), body=t("not_open_body", status=t(f"status_{status}")),
        payment=found.payment, link=return_url_for(request.app.state.dialects, found.payment, status),
    )  # fmt: skip


@router.get("/static/{name}")
def static(request: Request, name: str) -> Response:
    found = views.asset(name)
    if found is None:
        return PlainTextResponse("Not found", status_code=404)
    content, media_type, version = found
    # Pages link the versioned URL, whose content never changes: cache it for good; anything else revalidates.
    cache = "public, max-age=31536000, immutable" if request.query_params.get("v") == version else "no-cache"
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    return Response(content, media_type=media_type, headers=headers)


@router.get("/{token}")
def show(request: Request, token: str) -> Response:
    found = lookup(kasse_of(request), token)
    explicit = request.query_params.get("lang")
    if found is None:
        return _not_found(_language(request, None, explicit))
    lang = _language(request, found.payment, explicit)
    if found.status is not PaymentState.REQUIRES_ACTION:
        return _not_open(request, found, lang)
    cookie = security.csrf_value(request)
    secret = merchants.page_secret(kasse_of(request), merchant_id=found.payment.merchant_id)
    csrf = security.csrf_field(secret, token, cookie)
    response = views.payment_page(views.payment_view(found.payment, found.merchant_name, lang), lang=lang, csrf=csrf)
    path = f"/pay/{found.payment.redirect_token}"
    security.set_csrf_cookie(response, cookie, path=path, secure=request.url.scheme == "https")
    return response


def page_key(kasse: Kasse, token: str) -> bytes | None:
    """The key this payment page's form values are signed with; None for an unknown page."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    with kasse.read() as store:
        payment = store.find_payment_by_token(token)
    return None if payment is None else merchants.page_secret(kasse, merchant_id=payment.merchant_id)


@router.post("/{token}")
async def act(request: Request, token: str) -> Response:
    async with request.form() as form:
        action, explicit, submitted = form.get("action"), form.get("lang"), form.get(security.CSRF_FIELD)
    lang = _language(request, None, explicit)
    t = translator(lang)
    secret = await run_in_threadpool(page_key, kasse_of(request), token)
    if secret is None:
        return _not_found(lang)
    if not security.csrf_ok(request, submitted, secret=secret, page_token=token):
        return views.message_page(lang=lang, status=403, title=t("forbidden_title"), body=t("forbidden_body"))
    if not isinstance(action, str) or action not in ACTIONS:
        return views.message_page(lang=lang, status=400, title=t("bad_request_title"), body=t("bad_request_body"))
    acted = await run_in_threadpool(perform, kasse_of(request), token, action)
    if acted is None:
        return _not_found(lang)
    return _after(request, acted, _language(request, acted.found.payment, explicit))


def _after(request: Request, acted: Acted, lang: str) -> Response:
    """Back to the shop, with the outcome in the dialect's words; a page only if there is no shop URL."""
    url = return_url_for(request.app.state.dialects, acted.found.payment, acted.found.status.value)
    if url is not None:
        return security.harden(RedirectResponse(url, status_code=303))
    if acted.changed:
        return views.result_page(acted.found.payment, lang)
    return _not_open(request, acted.found, lang)
