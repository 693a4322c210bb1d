"""A charge's receipt page (the charge's ``receipt_url``), as Stripe hosts one for each charge: a public
page behind an unguessable URL (the payment's page token), showing amount, shop, method and status in
the customer's language. Nothing on it can be changed."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from kasse.dialects.stripe.loaders import ORIGIN
from kasse.edge.request import kasse_of
from kasse.pages import kit, views
from kasse.pages.i18n import format_amount, translator

__all__ = ["receipt_path", "router"]

router = APIRouter(prefix="/stripe", include_in_schema=False)


def receipt_path(redirect_token: str) -> str:
    return f"/stripe/receipts/{redirect_token}"


@router.get("/receipts/{token}")
def receipt(request: Request, token: str, lang: str | None = None) -> Response:
    found = kit.lookup(kasse_of(request), token)
    payment = None if found is None else found.payment
    language = kit.language(request, payment, lang)
    if found is None or payment is None or payment.origin != ORIGIN or payment.authorized_at is None:
        return kit.not_found(language)  # a receipt exists once the source has been charged
    t = translator(language)
    body = t(
        "receipt_body", amount=format_amount(payment.amount_minor, payment.currency, language),
        merchant=found.merchant_name, method=t(f"method_{payment.method.value}"),
        number=payment.id.removeprefix("pay_")[-12:], status=t(f"status_{found.status.value}"),
    )  # fmt: skip
    tone = "error" if found.status.value in ("failed", "canceled", "expired") else "success"
    return views.message_page(
        lang=language, status=200, title=t("receipt_title"), body=body, tone=tone, payment=payment
    )
