"""The Sofort page of a Smart Transaction (``iframe_url``, ``payment_links.sofort``) at
``/secuconnect/payment/go/{token}``, like secuconnect's ``…/payment/go/<hash>``.

The seed forbids opening it in an iframe: every answer carries ``X-Frame-Options: DENY`` and CSP
``frame-ancestors 'none'`` (kasse.pages.security). It asks for IBAN or BIC: ``88888888`` is secuconnect's
test account; with anything else secuconnect would execute a real payment even in demo mode, so Kasse
refuses and shows a clear warning instead (422, nothing changes). Approve, decline or abort go to the
engine and the customer back to the shop (redirects.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kasse.dialects.secuconnect import checkout
from kasse.dialects.secuconnect.redirects import secuconnect_return_url
from kasse.domain.errors import DomainError
from kasse.domain.models import Payment
from kasse.domain.states import PaymentState
from kasse.domain.urls import safe_http_url
from kasse.edge.request import kasse_of
from kasse.engine import merchants, payments
from kasse.engine.unit import Kasse, Tx
from kasse.pages import kit, security, views
from kasse.pages.i18n import translator
from kasse.pages.kit import Found
from kasse.pages.views import _render

__all__ = ["TEST_ACCOUNT", "router"]

PREFIX = "/secuconnect/payment/go"
TEST_ACCOUNT = "88888888"  # the seed: "Always test Sofort payments with 88888888 (eight times 8) as IBAN or BIC"
router = APIRouter(prefix=PREFIX, include_in_schema=False)
router.get("/static/{name}")(kit.static)  # the stylesheet, relative to the page as on the bank page

ACTIONS: dict[str, Callable[[Tx, str], Payment]] = {
    "decline": payments.decline,
    "cancel": partial(payments.cancel, reason="requested_by_customer"),
}


def _find(kasse: Kasse, token: str) -> Found | None:
    found = kit.lookup(kasse, token)
    return found if found is not None and found.payment.origin == checkout.ORIGIN else None


def _form(request: Request, found: Found, lang: str, *, warning: bool = False, account: str = "") -> Response:
    cookie = security.csrf_value(request)
    secret = merchants.page_secret(kasse_of(request), merchant_id=found.payment.merchant_id)
    response = _render(
        "secuconnect.html", lang=lang, status=422 if warning else 200, theme="bank",
        view=views.payment_view(found.payment, found.merchant_name, lang),
        csrf=security.csrf_field(secret, found.payment.redirect_token, cookie), warning=warning, account=account,
        test_account=TEST_ACCOUNT,
    )  # fmt: skip
    security.set_csrf_cookie(response, cookie, path=f"{PREFIX}/{found.payment.redirect_token}",
                             secure=request.url.scheme == "https")  # fmt: skip
    return response


def _not_open(found: Found, lang: str) -> Response:
    return kit.not_open(found, lang, link=safe_http_url(secuconnect_return_url(found.payment, found.status.value)))


@router.get("/{token}")
def show(request: Request, token: str) -> Response:
    found = _find(kasse_of(request), token)
    explicit = request.query_params.get("lang")
    if found is None:
        return security.harden(kit.not_found(kit.language(request, None, explicit)))
    lang = kit.language(request, found.payment, explicit)
    if found.status is not PaymentState.REQUIRES_ACTION:
        return _not_open(found, lang)
    return _form(request, found, lang)


def _is_test_account(form: FormData) -> bool:
    given = [str(form.get(name) or "").replace(" ", "") for name in ("iban", "bic")]
    return TEST_ACCOUNT in given


def _perform(kasse: Kasse, found: Found, action: str, form: FormData) -> Payment | None:
    """The customer's answer in one unit of work; None when the engine refused it (a double submit, the
    expiry or the merchant's abort first): the page then shows where the payment stands."""
    payment_id = found.payment.id
    try:
        if action == "approve":
            account = {"iban": str(form.get("iban") or "").strip(), "bic": str(form.get("bic") or "").strip()}
            return kasse.run(found.payment.merchant_id, checkout.pay, payment_id, account)
        return kasse.run(found.payment.merchant_id, ACTIONS[action], payment_id)
    except DomainError:
        return None


@router.post("/{token}")
async def act(request: Request, token: str) -> Response:
    async with request.form() as form:
        lang = kit.language(request, None, form.get("lang"))
        t = translator(lang)
        kasse = kasse_of(request)
        found = await run_in_threadpool(_find, kasse, token)
        if found is None:
            return security.harden(kit.not_found(lang))
        secret = await run_in_threadpool(merchants.page_secret, kasse, merchant_id=found.payment.merchant_id)
        if not security.csrf_ok(request, form.get(security.CSRF_FIELD), secret=secret, page_token=token):
            return views.message_page(lang=lang, status=403, title=t("forbidden_title"), body=t("forbidden_body"))
        action = form.get("action")
        if action not in ("approve", *ACTIONS) or not isinstance(action, str):
            return views.message_page(lang=lang, status=400, title=t("bad_request_title"), body=t("bad_request_body"))
        if found.status is not PaymentState.REQUIRES_ACTION:
            return _not_open(found, lang)
        if action == "approve" and not _is_test_account(form):
            account = str(form.get("iban") or form.get("bic") or "")[:34]
            return await run_in_threadpool(partial(_form, request, found, lang, warning=True, account=account))
        payment = await run_in_threadpool(_perform, kasse, found, action, form)
    return await run_in_threadpool(_after, kasse, token, payment, lang)


def _after(kasse: Kasse, token: str, payment: Payment | None, lang: str) -> Response:
    """Back to the shop (a 303 after the form post); a page of Kasse's own only without a shop URL."""
    found = kit.lookup(kasse, token)
    if found is None:
        return security.harden(kit.not_found(lang))
    url = safe_http_url(secuconnect_return_url(found.payment, found.status.value))
    if url is not None:
        return security.harden(RedirectResponse(url, status_code=303))
    if payment is not None:
        return views.result_page(found.payment, lang)
    return _not_open(found, lang)
