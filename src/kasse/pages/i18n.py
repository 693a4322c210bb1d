"""German and English for the hosted pages: the strings, the language choice, and amounts as people
write them ("10,00 €" in German, "€10.00" in English).

Deliberately tiny instead of gettext/Babel: two languages, about sixty strings, and no new dependency.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from kasse.domain.money import minor_to_major

__all__ = ["LANGUAGES", "MESSAGES", "Translator", "format_amount", "pick_language", "translator"]

LANGUAGES = ("de", "en")
# Where no other signal exists, the customer of a German-speaking country gets German (Sofort's home).
_GERMAN_COUNTRIES = frozenset({"DE", "AT", "CH", "LI", "LU"})
_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}

Translator = Callable[..., str]

MESSAGES: dict[str, dict[str, str]] = {
    "switch_language": {"de": "English", "en": "Deutsch"},
    "sandbox_note": {
        "de": "Testumgebung von Kasse: Es wird kein echtes Geld bewegt. Die Testdaten sind vorausgefüllt.",
        "en": "Kasse sandbox: no real money moves. The test data is prefilled.",
    },
    "sandbox_badge": {"de": "Testmodus", "en": "Test mode"},
    "bank_name": {"de": "Kasse Testbank", "en": "Kasse Test Bank"},
    "sofort_title": {"de": "Sofortüberweisung", "en": "Instant bank transfer"},
    "klarna_title": {"de": "Mit Klarna bezahlen", "en": "Pay with Klarna"},
    "pay_to": {"de": "Zahlung an", "en": "Payment to"},
    "amount": {"de": "Betrag", "en": "Amount"},
    "method": {"de": "Zahlart", "en": "Payment method"},
    "description": {"de": "Beschreibung", "en": "Description"},
    "reference": {"de": "Verwendungszweck", "en": "Reference"},
    "bank_login": {"de": "Anmeldung bei Ihrer Bank", "en": "Log in to your bank"},
    "bank_login_hint": {
        "de": "Melden Sie sich mit Ihren Online-Banking-Daten an, um die Überweisung freizugeben.",
        "en": "Log in with your online banking details to release the transfer.",
    },
    "iban": {"de": "IBAN", "en": "IBAN"},
    "bic": {"de": "BIC", "en": "BIC"},
    "login_name": {"de": "Anmeldename oder Kontonummer", "en": "Login name or account number"},
    "pin": {"de": "PIN", "en": "PIN"},
    "test_data_hint": {
        "de": "Testdaten: Jede Eingabe wird akzeptiert. Sie entscheiden, was die Bank antwortet.",
        "en": "Test data: any input is accepted. You decide what the bank answers.",
    },
    "approve": {"de": "Zahlung freigeben", "en": "Approve payment"},
    "decline": {"de": "Zahlung ablehnen", "en": "Decline payment"},
    "cancel": {"de": "Abbrechen und zurück zum Shop", "en": "Cancel and return to the shop"},
    "klarna_login": {"de": "Bei Klarna anmelden", "en": "Log in to Klarna"},
    "email": {"de": "E-Mail-Adresse", "en": "Email address"},
    "verification_code": {"de": "Bestätigungscode", "en": "Verification code"},
    "klarna_approve": {"de": "Kauf bestätigen", "en": "Confirm purchase"},
    "your_plan": {"de": "Ihr Zahlungsplan", "en": "Your payment plan"},
    "today": {"de": "Heute", "en": "Today"},
    "in_days": {"de": "In {days} Tagen", "en": "In {days} days"},
    "method_sofort": {"de": "Sofortüberweisung", "en": "Sofort bank transfer"},
    "method_klarna_pay_now": {"de": "Sofort bezahlen", "en": "Pay now"},
    "method_klarna_pay_later": {"de": "In 30 Tagen bezahlen", "en": "Pay later in 30 days"},
    "method_klarna_slice_it": {"de": "In 3 Raten bezahlen", "en": "Slice it in 3 instalments"},
    "method_klarna_direct_debit": {"de": "Lastschrift", "en": "Direct debit"},
    "product_klarna_pay_now": {
        "de": "Der Betrag wird sofort von Ihrem Bankkonto abgebucht.",
        "en": "The amount is taken from your bank account right away.",
    },
    "product_klarna_pay_later": {
        "de": "Erst die Ware, dann bezahlen: Sie haben 30 Tage Zeit, ohne Zusatzkosten.",
        "en": "Get it first, pay later: you have 30 days, at no extra cost.",
    },
    "product_klarna_slice_it": {
        "de": "Der Betrag wird in drei zinsfreie Raten aufgeteilt.",
        "en": "The amount is split into three interest-free instalments.",
    },
    "product_klarna_direct_debit": {
        "de": "Der Betrag wird per SEPA-Lastschrift von Ihrem Konto eingezogen.",
        "en": "The amount is collected from your account by SEPA direct debit.",
    },
    "status_requires_action": {"de": "offen", "en": "open"},
    "status_authorized": {"de": "freigegeben", "en": "authorized"},
    "status_processing": {"de": "in Bearbeitung", "en": "processing"},
    "status_succeeded": {"de": "abgeschlossen", "en": "succeeded"},
    "status_failed": {"de": "abgelehnt", "en": "failed"},
    "status_canceled": {"de": "abgebrochen", "en": "canceled"},
    "status_expired": {"de": "abgelaufen", "en": "expired"},
    "not_found_title": {"de": "Zahlung nicht gefunden", "en": "Payment not found"},
    "not_found_body": {
        "de": "Dieser Zahlungslink ist ungültig. Bitte kehren Sie zum Shop zurück und starten Sie die Zahlung neu.",
        "en": "This payment link is not valid. Please go back to the shop and start the payment again.",
    },
    "not_open_title": {"de": "Diese Zahlung ist nicht mehr offen", "en": "This payment is no longer open"},
    "not_open_body": {
        "de": "Der aktuelle Status ist „{status}“. Hier gibt es nichts mehr zu tun.",
        "en": "Its current status is “{status}”. There is nothing left to do here.",
    },
    "forbidden_title": {"de": "Formular abgelaufen", "en": "Form expired"},
    "forbidden_body": {
        "de": "Aus Sicherheitsgründen wurde nichts geändert. Bitte laden Sie die Zahlungsseite neu.",
        "en": "For your security nothing was changed. Please reload the payment page.",
    },
    "bad_request_title": {"de": "Ungültige Anfrage", "en": "Invalid request"},
    "bad_request_body": {
        "de": "Diese Aktion ist unbekannt. Es wurde nichts geändert.",
        "en": "This action is not known. Nothing was changed.",
    },
    "result_approved_title": {"de": "Zahlung freigegeben", "en": "Payment approved"},
    "result_declined_title": {"de": "Zahlung abgelehnt", "en": "Payment declined"},
    "result_canceled_title": {"de": "Zahlung abgebrochen", "en": "Payment canceled"},
    "result_body": {"de": "Sie können dieses Fenster jetzt schließen.", "en": "You can close this window now."},
    "back_to_shop": {"de": "Zurück zum Shop", "en": "Back to the shop"},
    "receipt_title": {"de": "Zahlungsbeleg", "en": "Receipt"},
    "receipt_body": {
        "de": "{amount} an {merchant} per {method}, Beleg {number}. Status: {status}.",
        "en": "{amount} to {merchant} by {method}, receipt {number}. Status: {status}.",
    },
    "try_again": {"de": "Zahlungsseite neu laden", "en": "Reload the payment page"},
    "klarna_otp_refused": {
        "de": "Dieser Bestätigungscode wurde nicht akzeptiert. Jeder sechsstellige Code außer 999999 funktioniert.",
        "en": "This verification code was not accepted. Any six digits but 999999 work.",
    },
    "klarna_test_hint": {
        "de": "Testkunden: customer+de@klarna.com wird angenommen, customer+de+denied@klarna.com abgelehnt. "
        "Jeder sechsstellige Code außer 999999 funktioniert.",
        "en": "Test customers: customer+de@klarna.com is approved, customer+de+denied@klarna.com is declined. "
        "Any six-digit code but 999999 works.",
    },
    "klarna_request_closed": {
        "de": "Diese Zahlungsanfrage ist nicht mehr offen (Status {status}).",
        "en": "This payment request is no longer open (state {status}).",
    },
}


def translator(lang: str) -> Translator:
    """``t(key, **values)`` in ``lang``; values are filled in with ``str.format``."""

    def t(key: str, **values: object) -> str:
        text = MESSAGES[key][lang]
        return text.format(**values) if values else text

    return t


def _primary(tag: str | None) -> str | None:
    """The primary subtag (de-AT → de); None when the tag is missing or not a language we speak."""
    if not tag:
        return None
    lang = tag.strip().replace("_", "-").split("-")[0].lower()
    return lang if lang in LANGUAGES else None


def _from_accept_language(header: str | None) -> str | None:
    """The supported language with the highest q (ties keep the header's order, as RFC 9110 intends)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = _primary(tag)
        if lang is not None and q > 0:
            ranked.append((-q, position, lang))
    return min(ranked)[2] if ranked else None


def pick_language(
    *, query: str | None, customer_locale: str | None, accept_language: str | None, country: str | None
) -> str:
    """``?lang=`` first, then the locale the merchant sent for the customer, then the browser, then the
    payment's country. Deterministic: the same inputs always give the same language."""
    return (
        _primary(query)
        or _primary(customer_locale)
        or _from_accept_language(accept_language)
        or ("de" if country is None or country in _GERMAN_COUNTRIES else "en")
    )


def format_amount(amount_minor: int, currency: str, lang: str) -> str:
    """German: "1.234,56 €" (symbol after); English: "€1,234.56" (symbol before). Codes without a
    well-known symbol are written out ("10,00 CHF", "CHF 10.00")."""
    value: Decimal = minor_to_major(amount_minor, currency)
    digits = f"{value:,}"
    symbol = _SYMBOLS.get(currency)
    if lang == "de":
        return f"{digits.translate(str.maketrans(',.', '.,'))} {symbol or currency}"
    return f"{symbol}{digits}" if symbol else f"{currency} {digits}"
