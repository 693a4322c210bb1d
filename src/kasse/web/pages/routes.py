"""HTTP of the hosted pages: ``GET /pay/{token}`` shows the bank or Klarna page, ``POST /pay/{token}``
carries the customer's answer to the engine and sends them back to the shop.

The app's exception handlers answer in JSON for API clients; a customer's browser gets HTML, so every
error of these routes (unknown token, bad CSRF value, payment no longer open) is answered here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kasse.dialects._base import return_url_for
from kasse.domain.errors import DomainError
from kasse.domain.models import Payment
from kasse.domain.states import PaymentState
from kasse.edge.request import kasse_of
from kasse.engine import merchants, payments
from kasse.engine.unit import Kasse, Tx
from kasse.pages import kit, security, views
from kasse.pages.i18n import translator
from kasse.pages.kit import Found

__all__ = ["router"]

router = APIRouter(prefix="/pay", include_in_schema=False)

ACTIONS: dict[str, Callable[[Tx, str], Payment]] = {
    "approve": payments.authorize,
    "decline": payments.decline,
    "cancel": partial(payments.cancel, reason="requested_by_customer"),
}


@dataclass(frozen=True, slots=True)
class Acted:
    found: Found
    changed: bool


def perform(kasse: Kasse, token: str, action: str) -> Acted | None:
    """Run the customer's answer in one unit of work. Anything the engine refuses (a double submit,
    the expiry timer or the merchant's cancel winning a race) leaves the payment as it is."""
    found = kit.lookup(kasse, token)
    if found is None or found.status is not PaymentState.REQUIRES_ACTION:
        return None if found is None else Acted(found, changed=False)
    try:
        payment = kasse.run(found.payment.merchant_id, ACTIONS[action], found.payment.id)
    except DomainError:
        again = kit.lookup(kasse, token)
        return None if again is None else Acted(again, changed=False)
    return Acted(Found(payment, found.merchant_name, payment.status), changed=True)


@router.get("/static/{name}")
def static(request: Request, name: str) -> Response:
    return kit.static(request, name)


@router.get("/{token}")
def show(request: Request, token: str) -> Response:
    found = kit.lookup(kasse_of(request), token)
    explicit = request.query_params.get("lang")
    if found is None:
        return kit.not_found(kit.language(request, None, explicit))
    lang = kit.language(request, found.payment, explicit)
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
    if not token or len(token) > kit.MAX_TOKEN_LENGTH:
        return None
    with kasse.read() as store:
        payment = store.find_payment_by_token(token)
    return None if payment is None else merchants.page_secret(kasse, merchant_id=payment.merchant_id)


@router.post("/{token}")
async def act(request: Request, token: str) -> Response:
    async with request.form() as form:
        action, explicit, submitted = form.get("action"), form.get("lang"), form.get(security.CSRF_FIELD)
    lang = kit.language(request, None, explicit)
    t = translator(lang)
    secret = await run_in_threadpool(page_key, kasse_of(request), token)
    if secret is None:
        return kit.not_found(lang)
    if not security.csrf_ok(request, submitted, secret=secret, page_token=token):
        return views.message_page(lang=lang, status=403, title=t("forbidden_title"), body=t("forbidden_body"))
    if not isinstance(action, str) or action not in ACTIONS:
        return views.message_page(lang=lang, status=400, title=t("bad_request_title"), body=t("bad_request_body"))
    acted = await run_in_threadpool(perform, kasse_of(request), token, action)
    if acted is None:
        return kit.not_found(lang)
    return _after(request, acted, kit.language(request, acted.found.payment, explicit))


def _after(request: Request, acted: Acted, lang: str) -> Response:
    """Back to the shop, with the outcome in the dialect's words; a page only if there is no shop URL."""
    url = return_url_for(request.app.state.dialects, acted.found.payment, acted.found.status.value)
    if url is not None:
        return security.harden(RedirectResponse(url, status_code=303))
    if acted.changed:
        return views.result_page(acted.found.payment, lang)
    return _not_open(request, acted.found, lang)


def _not_open(request: Request, found: Found, lang: str) -> Response:
    link = return_url_for(request.app.state.dialects, found.payment, found.status.value)
    return kit.not_open(found, lang, link=link)
