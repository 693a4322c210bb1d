"""What the hosted pages show: a payment turned into display values, and the templates rendered."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.responses import HTMLResponse

from kasse.domain.models import Method, Payment
from kasse.domain.states import PaymentState
from kasse.pages.i18n import format_amount, translator
from kasse.pages.security import harden

__all__ = ["TEST_DATA", "PaymentView", "asset", "message_page", "payment_page", "payment_view", "result_page"]

# Prefilled so a tester only has to click. The IBAN and BIC are the well-known Commerzbank example
# account that every SEPA validator accepts; the sandbox never checks any of these values.
TEST_DATA = {
    "iban": "DE89 3704 0044 0532 0130 00",
    "bic": "COBADEFFXXX",
    "login": "testkunde",
    "pin": "12345",
    "email": "kunde@example.com",
    "code": "123456",
}
_ASSET_NAME = re.compile(r"[a-z0-9-]+\.(css|svg)")
_MEDIA_TYPES = {"css": "text/css; charset=utf-8", "svg": "image/svg+xml"}
_INSTALMENT_DAYS = (0, 30, 60)


@dataclass(frozen=True, slots=True)
class PaymentView:
    token: str
    merchant_name: str
    amount: str
    method_label: str
    description: str | None
    reference: str | None
    klarna: bool
    product_text: str | None
    plan: list[tuple[str, str]]  # Slice it: (when, amount) per instalment
    email: str
    needs_iban: bool  # Klarna products that debit a bank account ask for it


def payment_view(payment: Payment, merchant_name: str, lang: str) -> PaymentView:
    t = translator(lang)
    method = payment.method
    email = payment.customer.get("email")
    return PaymentView(
        token=payment.redirect_token,
        merchant_name=merchant_name,
        amount=format_amount(payment.amount_minor, payment.currency, lang),
        method_label=t(f"method_{method.value}"),
        description=payment.description,
        reference=payment.reference,
        klarna=method.is_klarna,
        product_text=t(f"product_{method.value}") if method.is_klarna else None,
        plan=_plan(payment, lang) if method is Method.KLARNA_SLICE_IT else [],
        email=email if isinstance(email, str) and email else TEST_DATA["email"],
        needs_iban=method in (Method.KLARNA_PAY_NOW, Method.KLARNA_DIRECT_DEBIT),
    )


def _plan(payment: Payment, lang: str) -> list[tuple[str, str]]:
    """Three instalments in whole minor units; the first carries the remainder so they add up exactly."""
    t = translator(lang)
    share, remainder = divmod(payment.amount_minor, len(_INSTALMENT_DAYS))
    plan = []
    for i, days in enumerate(_INSTALMENT_DAYS):
        amount = format_amount(share + (remainder if i == 0 else 0), payment.currency, lang)
        plan.append((t("today") if days == 0 else t("in_days", days=days), amount))
    return plan


@cache
def asset(name: str) -> tuple[bytes, str, str] | None:
    """(content, media type, version) of a file in ``pages/static``; None for anything else."""
    match = _ASSET_NAME.fullmatch(name)
    if match is None:
        return None
    path = files("kasse.pages").joinpath("static", name)
    if not path.is_file():
        return None
    content = path.read_bytes()
    return content, _MEDIA_TYPES[match.group(1)], hashlib.sha256(content).hexdigest()[:12]


def _asset_url(name: str) -> str:
    # Relative to /pay/{token}, so it still works when Kasse is served under a path prefix; the version
    # lets the stylesheet be cached for good and still change with a release.
    found = asset(name)
    return f"static/{name}" + (f"?v={found[2]}" if found else "")


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("kasse.pages", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(template: str, *, lang: str, status: int, theme: str, **context: Any) -> HTMLResponse:
    other = "en" if lang == "de" else "de"
    template_ = _environment().get_template(template)
    html = template_.render(t=translator(lang), lang=lang, other_lang=other, theme=theme, asset=_asset_url, **context)
    return harden(HTMLResponse(html, status_code=status))


def payment_page(view: PaymentView, *, lang: str, csrf: str) -> HTMLResponse:
    template = "klarna.html" if view.klarna else "sofort.html"
    theme = "klarna" if view.klarna else "bank"
    return _render(template, lang=lang, status=200, theme=theme, view=view, csrf=csrf, test=TEST_DATA)


def message_page(
    *,
    lang: str,
    status: int,
    title: str,
    body: str,
    tone: str = "info",
    payment: Payment | None = None,
    link: str | None = None,
    link_label: str | None = None,
) -> HTMLResponse:
    """Every page that is not a form: not found, not open, forbidden, and the result without a shop URL."""
    theme = "klarna" if payment is not None and payment.method.is_klarna else "bank"
    return _render(
        "message.html", lang=lang, status=status, theme=theme, title=title, body=body, tone=tone,
        link=link, link_label=link_label or translator(lang)("back_to_shop"),
    )  # fmt: skip


def result_page(payment: Payment, lang: str) -> HTMLResponse:
    """After the customer acted and the shop gave no URL to return to."""
    t = translator(lang)
    if payment.status is PaymentState.FAILED:
        title, tone = t("result_declined_title"), "error"
    elif payment.status is PaymentState.CANCELED:
        title, tone = t("result_canceled_title"), "info"
    else:
        title, tone = t("result_approved_title"), "success"
    return message_page(lang=lang, status=200, title=title, body=t("result_body"), tone=tone, payment=payment)
