"""PAYONE's error answer: ``status=ERROR`` with a numeric ``errorcode``, an ``errormessage`` for the
merchant and a ``customermessage`` in the request's ``language`` — always HTTP 200, as the Server API
answers every request (clients read ``status``, never the HTTP status).

Codes. PAYONE publishes no complete list of its parameter errors; the ones Kasse could confirm from code
that reads real answers: ``1202`` "Parameter {request} faulty or missing" (woocommerce-3 ``Request.php``
comment), ``1203`` "Parameter {mid} faulty or missing" with the customer message "An error occured while
processing this transaction (wrong parameters)." and its German text (commercetools-payone-integration's
``PayonePostServiceImplRequestTest``). ``80`` "Amount no longer available", ``101`` "The authorisation has
expired." and ``102`` "Authorisation denied." are from PAYONE's platform error list. Everything marked
[kasse] below is Kasse's own choice, written down in docs/payone.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kasse.domain.errors import DomainError, ErrorCode

__all__ = [
    "PAYONE_ERRORS",
    "PayoneError",
    "customer_message",
    "error_fields",
    "from_domain",
    "parameter",
]

Customer = Literal["parameters", "declined", "expired", "failed", "internal"]

# customermessage by kind and language (PAYONE: the language parameter; unknown languages get English).
_CUSTOMER: dict[Customer, dict[str, str]] = {
    "parameters": {
        "en": "An error occured while processing this transaction (wrong parameters).",
        "de": "Bei der Bearbeitung dieser Transaktion ist ein Fehler aufgetreten (Falsche Parameter).",
    },
    "declined": {
        "en": "The payment was declined. Please choose another payment method.",
        "de": "Die Zahlung wurde abgelehnt. Bitte wählen Sie eine andere Zahlungsart.",
    },
    "expired": {
        "en": "The payment session has expired. Please start the payment again.",
        "de": "Die Zahlungssitzung ist abgelaufen. Bitte starten Sie die Zahlung erneut.",
    },
    "failed": {
        "en": "The transaction could not be completed.",
        "de": "Die Transaktion konnte nicht abgeschlossen werden.",
    },
    "internal": {
        "en": "An internal error occurred. Please try again later.",
        "de": "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später erneut.",
    },
}

# Parameters with a code of their own; every other parameter error is 1000 [kasse].
_PARAMETER_CODES = {"request": 1202, "mid": 1203, "aid": 1204, "portalid": 1205, "key": 1206, "mode": 1207}
PARAMETER = 1000  # [kasse] any other parameter faulty or missing
AMOUNT_NO_LONGER_AVAILABLE = 80
AUTHORISATION_EXPIRED = 101
AUTHORISATION_DENIED = 102
AMOUNT_TOO_HIGH = 913  # [kasse] more than is left to capture or to give back
TRANSACTION_STATE = 905  # [kasse] the transaction is in no state for this request
REFERENCE_TAKEN = 911  # [kasse] the reference is already used by another transaction
INTERNAL = 999  # [kasse]


@dataclass(slots=True)
class PayoneError(Exception):
    code: int
    message: str
    customer: Customer = "parameters"

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


def parameter(name: str, why: str | None = None) -> PayoneError:
    """PAYONE's wording for a bad parameter, with Kasse's reason after it."""
    message = f"Parameter {{{name}}} faulty or missing"
    return PayoneError(_PARAMETER_CODES.get(name, PARAMETER), f"{message}: {why}" if why else message)


def customer_message(kind: Customer, language: str | None) -> str:
    texts = _CUSTOMER[kind]
    return texts.get((language or "").lower(), texts["en"])


# Readers of key=value answers cut a value at a second "=" (woocommerce-3) or URL-decode it (commercetools,
# "+" and "%"): a message never carries those characters.
_PLAIN = str.maketrans({"=": " ", "+": " ", "%": " "})


def error_fields(error: PayoneError, language: str | None) -> dict[str, str]:
    """The lines of an error answer. Messages are one line (a line break would start a new key)."""
    return {
        "status": "ERROR",
        "errorcode": str(error.code),
        "errormessage": " ".join(error.message.translate(_PLAIN).split())[:1024],
        "customermessage": customer_message(error.customer, language),
    }


# Every engine error → (PAYONE code, customer message kind). Total over ErrorCode, no default branch
# (tests/test_dialect_maps.py); a parameter error keeps the engine's parameter name.
PAYONE_ERRORS: dict[ErrorCode, tuple[int, Customer]] = {
    ErrorCode.PARAMETER_INVALID: (PARAMETER, "parameters"),
    ErrorCode.PARAMETER_MISSING: (PARAMETER, "parameters"),
    ErrorCode.PARAMETER_UNKNOWN: (PARAMETER, "parameters"),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: (PARAMETER, "parameters"),
    ErrorCode.IDEMPOTENCY_KEY_INVALID: (PARAMETER, "parameters"),
    ErrorCode.INVALID_API_KEY: (_PARAMETER_CODES["key"], "parameters"),
    ErrorCode.URL_INVALID: (PARAMETER, "parameters"),
    ErrorCode.URL_REFUSED: (PARAMETER, "parameters"),
    ErrorCode.INVALID_AMOUNT: (PARAMETER, "parameters"),
    ErrorCode.INVALID_CURRENCY: (PARAMETER, "parameters"),
    ErrorCode.INVALID_EXPIRES_IN: (PARAMETER, "parameters"),
    ErrorCode.AMOUNT_OUT_OF_RANGE: (PARAMETER, "parameters"),
    ErrorCode.AMOUNT_TOO_LARGE: (AMOUNT_TOO_HIGH, "failed"),
    ErrorCode.CURRENCY_NOT_SUPPORTED: (PARAMETER, "parameters"),
    ErrorCode.COUNTRY_NOT_SUPPORTED: (PARAMETER, "parameters"),
    ErrorCode.CURRENCY_COUNTRY_MISMATCH: (PARAMETER, "parameters"),
    ErrorCode.CAPTURE_METHOD_NOT_SUPPORTED: (PARAMETER, "parameters"),
    ErrorCode.RESOURCE_MISSING: (PARAMETER, "parameters"),
    ErrorCode.INVALID_STATE: (TRANSACTION_STATE, "failed"),
    ErrorCode.PAYMENT_NOT_OPEN: (TRANSACTION_STATE, "failed"),
    ErrorCode.PAYMENT_EXPIRED: (AUTHORISATION_EXPIRED, "expired"),
    ErrorCode.NOTHING_TO_CAPTURE: (AMOUNT_NO_LONGER_AVAILABLE, "failed"),
    ErrorCode.PAYMENT_NOT_REFUNDABLE: (TRANSACTION_STATE, "failed"),
    ErrorCode.ALREADY_REFUNDED: (AMOUNT_TOO_HIGH, "failed"),
    ErrorCode.REFUND_WINDOW_EXPIRED: (TRANSACTION_STATE, "failed"),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: (PARAMETER, "parameters"),
    ErrorCode.CONCURRENT_UPDATE: (INTERNAL, "internal"),
    ErrorCode.DATABASE_CONFLICT: (INTERNAL, "internal"),
    ErrorCode.CLOCK_ADVANCE_RUNNING: (INTERNAL, "internal"),
    ErrorCode.EXTERNAL_ID_TAKEN: (REFERENCE_TAKEN, "failed"),
}


def from_domain(exc: DomainError) -> PayoneError:
    code, customer = PAYONE_ERRORS[exc.code]
    if code == PARAMETER and exc.param:
        found = parameter(exc.param, exc.message)
        return PayoneError(found.code, found.message, customer)
    return PayoneError(code, exc.message, customer)
