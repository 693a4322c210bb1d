"""Kasse's Klarna purchase journey for payment requests (``payment_request_url``): ``GET
/klarna/journey/{page token}`` shows the approval page and moves the request to IN_PROGRESS; the form's
approve, decline and cancel run the request's use cases and send the customer to the partner's
``return_url``. Klarna's sample customers decide (``customer+de+denied@klarna.com`` is declined) and any
six-digit code but 999999 is accepted (``kasse.domain.klarna_persons``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kasse.dialects.klarna import requests
from kasse.dialects.klarna.errors import KlarnaError
from kasse.dialects.klarna.model import PaymentRequest
from kasse.dialects.klarna.redirects import request_return_url
from kasse.dialects.klarna.translate import PAGE_PATH
from kasse.domain.errors import DomainError
from kasse.domain.klarna_persons import otp_accepted
from kasse.edge.request import kasse_of
from kasse.engine import merchants
from kasse.engine.unit import Kasse
from kasse.pages import kit, security
from kasse.pages.i18n import format_amount, translator
from kasse.pages.views import TEST_DATA, _render

__all__ = ["router"]

router = APIRouter(prefix=PAGE_PATH.rstrip("/"), include_in_schema=False)
router.get("/static/{name}")(kit.static)  # the stylesheet, relative to the page


@dataclass(frozen=True, slots=True)
class Journey:
    request: PaymentRequest
    merchant_name: str


def _find(kasse: Kasse, token: str) -> Journey | None:
    if not token or len(token) > kit.MAX_TOKEN_LENGTH:
        return None
    with kasse.read() as store:
        row = store.find_klarna_request_by_page_token(token)
        merchant = None if row is None else store.get_merchant(merchant_id=str(row["merchant_id"]))
    return None if row is None or merchant is None else Journey(PaymentRequest.from_row(row), merchant.name)


def _run(
    kasse: Kasse, journey: Journey, step: Callable[..., PaymentRequest], **kw: str | None
) -> PaymentRequest | None:
    """One step of the journey; a step the request's state refuses (expired, decided in another tab)
    leaves it as it is."""
    try:
        return kasse.run(journey.request.merchant_id, step, journey.request.id, **kw)
    except (DomainError, KlarnaError):
        return None


def _message(*, lang: str, status: int, title: str, body: str, tone: str = "info", link: str | None = None) -> Response:
    """A message in Klarna's colours (``views.message_page`` picks the bank's for anything but a payment)."""
    label = translator(lang)("back_to_shop")
    return _render(
        "message.html",
        lang=lang,
        status=status,
        theme="klarna",
        title=title,
        body=body,
        tone=tone,
        link=link,
        link_label=label,
    )


def _closed(journey: Journey, lang: str) -> Response:
    t = translator(lang)
    return _message(
        lang=lang,
        status=409,
        title=t("not_open_title"),
        body=t("klarna_request_closed", status=journey.request.state.value),
        link=request_return_url(journey.request),
    )


def _page(journey: Journey, lang: str, csrf: str, *, email: str, code: str, error: str | None, status: int) -> Response:
    req = journey.request
    return _render(
        "klarna_request.html",
        lang=lang,
        status=status,
        theme="klarna",
        merchant_name=journey.merchant_name,
        amount=format_amount(req.amount_minor or 0, req.currency, lang),
        reference=req.reference,
        token=req.page_token,
        email=email,
        code=code,
        error=error,
        csrf=csrf,
    )


def _customer_email(req: PaymentRequest) -> str:
    purchase = req.body.get("supplementary_purchase_data") or {}
    customer = purchase.get("customer") or {}
    email = customer.get("email")
    return email if isinstance(email, str) and email else "customer+de@klarna.com"


def _csrf(kasse: Kasse, request: Request, journey: Journey) -> tuple[str, str]:
    cookie = security.csrf_value(request)
    secret = merchants.page_secret(kasse, merchant_id=journey.request.merchant_id)
    return cookie, security.csrf_field(secret, journey.request.page_token, cookie)


@router.get("/{token}")
def show(request: Request, token: str) -> Response:
    kasse = kasse_of(request)
    journey = _find(kasse, token)
    lang = kit.language(request, None, request.query_params.get("lang"))
    if journey is None:
        return kit.not_found(lang)
    opened = _run(kasse, journey, requests.open_journey)
    if opened is None:
        return _closed(_find(kasse, token) or journey, lang)
    journey = Journey(opened, journey.merchant_name)
    cookie, csrf = _csrf(kasse, request, journey)
    response = _page(journey, lang, csrf, email=_customer_email(opened), code=TEST_DATA["code"], error=None, status=200)
    security.set_csrf_cookie(response, cookie, path=PAGE_PATH + token, secure=request.url.scheme == "https")
    return response


@router.post("/{token}")
async def act(request: Request, token: str) -> Response:
    async with request.form() as form:
        fields = {k: form.get(k) for k in ("action", "lang", security.CSRF_FIELD, "email", "code")}
    kasse = kasse_of(request)
    lang = kit.language(request, None, fields["lang"])
    t = translator(lang)
    journey = await run_in_threadpool(_find, kasse, token)
    if journey is None:
        return kit.not_found(lang)
    secret = await run_in_threadpool(merchants.page_secret, kasse, merchant_id=journey.request.merchant_id)
    if not security.csrf_ok(request, fields[security.CSRF_FIELD], secret=secret, page_token=token):
        return _message(lang=lang, status=403, title=t("forbidden_title"), body=t("forbidden_body"), tone="error")
    return await run_in_threadpool(_decide, request, kasse, journey, fields, lang)


def _decide(request: Request, kasse: Kasse, journey: Journey, fields: Mapping[str, object], lang: str) -> Response:
    action, email, code = fields["action"], fields["email"], fields["code"]
    email = email if isinstance(email, str) and email else None
    if action == "approve" and not (isinstance(code, str) and otp_accepted(code.strip())):
        csrf = str(fields[security.CSRF_FIELD])
        return _page(
            journey, lang, csrf, email=email or "", code="", status=400, error=translator(lang)("klarna_otp_refused")
        )
    steps: dict[object, Callable[..., PaymentRequest]] = {
        "approve": requests.approve,
        "decline": requests.decline,
        "cancel": requests.abort,
    }
    step = steps.get(action)
    if step is None:
        t = translator(lang)
        return _message(lang=lang, status=400, title=t("bad_request_title"), body=t("bad_request_body"), tone="error")
    done = _run(kasse, journey, step, **({"email": email} if action == "approve" else {}))
    if done is None:
        return _closed(_find(kasse, journey.request.page_token) or journey, lang)
    url = request_return_url(done)
    if url is not None:
        return security.harden(RedirectResponse(url, status_code=303))
    t = translator(lang)
    title = {"COMPLETED": "result_approved_title", "DECLINED": "result_declined_title"}.get(
        done.state.value, "result_canceled_title"
    )
    return _message(lang=lang, status=200, title=t(title), body=t("result_body"))
