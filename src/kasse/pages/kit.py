"""What every hosted page shares, whoever mounts it (the bank page under ``/pay``, a dialect's own page
such as MultiSafepay's payment page): finding the payment by its page token, the customer's language,
the not-found and no-longer-open answers, and the stylesheet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from kasse.domain.clock import MerchantClock, utc
from kasse.domain.models import Payment
from kasse.domain.states import PaymentState
from kasse.engine.unit import Kasse
from kasse.pages import views
from kasse.pages.i18n import pick_language, translator

__all__ = ["Found", "language", "lookup", "not_found", "not_open", "shown_status", "static"]

MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Found:
    payment: Payment
    merchant_name: str
    status: PaymentState  # as the customer should see it (see shown_status)


def shown_status(payment: Payment, now: datetime) -> PaymentState:
    """The expiry timer fires on the scheduler's next tick; until it has, the deadline already counts
    for the customer, so a page left open past it cannot be approved."""
    if payment.status is PaymentState.REQUIRES_ACTION and now >= utc(payment.expires_at):
        return PaymentState.EXPIRED
    return payment.status


def lookup(kasse: Kasse, token: str) -> Found | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    with kasse.read() as store:
        payment = store.find_payment_by_token(token)
        merchant = None if payment is None else store.get_merchant(merchant_id=payment.merchant_id)
    if payment is None or merchant is None:
        return None
    now = MerchantClock(merchant.clock_offset_us, merchant.clock_frozen_at).now(kasse.wall())
    return Found(payment, merchant.name, shown_status(payment, now))


def language(request: Request, payment: Payment | None, explicit: object) -> str:
    locale = payment.customer.get("locale") if payment is not None else None
    return pick_language(
        query=explicit if isinstance(explicit, str) else None,
        customer_locale=locale if isinstance(locale, str) else None,
        accept_language=request.headers.get("accept-language"),
        country=payment.country if payment is not None else None,
    )


def not_found(lang: str) -> Response:
    t = translator(lang)
    return views.message_page(lang=lang, status=404, title=t("not_found_title"), body=t("not_found_body"), tone="error")


def not_open(found: Found, lang: str, *, link: str | None) -> Response:
    """The payment is no longer open: its status, and the way back to the shop if there is one."""
    t = translator(lang)
    status = found.status.value
    return views.message_page(
        lang=lang, status=409, title=t("not_open_title"), body=t("not_open_body", status=t(f"status_{status}")),
        payment=found.payment, link=link,
    )  # fmt: skip


def static(request: Request, name: str) -> Response:
    found = views.asset(name)
    if found is None:
        return PlainTextResponse("Not found", status_code=404)
    content, media_type, version = found
    # Pages link the versioned URL, whose content never changes: cache it for good; anything else revalidates.
    cache = "public, max-age=31536000, immutable" if request.query_params.get("v") == version else "no-cache"
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    return Response(content, media_type=media_type, headers=headers)
