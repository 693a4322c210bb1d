"""Stripe's request parameters, decoded from the bracket form and checked in Stripe's words (error code
and ``param`` as Stripe names them), before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kasse.dialects.stripe.errors import StripeCode as S
from kasse.dialects.stripe.fields import check_known, metadata_in
from kasse.dialects.stripe.fields import hash_ as _hash
from kasse.dialects.stripe.fields import integer as _integer
from kasse.dialects.stripe.fields import invalid as _invalid
from kasse.dialects.stripe.fields import missing as _missing
from kasse.dialects.stripe.fields import string as _string
from kasse.dialects.stripe.fields import url as _url
from kasse.dialects.stripe.rules import RULES as STRIPE
from kasse.domain.errors import ErrorCode as E
from kasse.domain.models import Approval, Method, Scenario, Settlement
from kasse.domain.money import minor_to_major

__all__ = [
    "ChargeIn",
    "RefundIn",
    "SourceIn",
    "charge_in",
    "check_known",
    "metadata_in",
    "refund_in",
    "source_in",
]

# Sofort's rules are the engine's (``rules.py``); they are checked here first to refuse in
# Stripe's words and order, then again by the engine.
SOFORT_COUNTRIES = tuple(sorted(STRIPE.countries[Method.SOFORT]))
SOFORT_CURRENCIES = tuple(sorted(STRIPE.currencies[Method.SOFORT]))
MIN_AMOUNT, MAX_AMOUNT = STRIPE.min_amount_minor, STRIPE.max_amount_minor
DESCRIPTOR_MAX = 35  # Sofort's statement descriptor (the seed); the engine does not read descriptors
LANGUAGES = ("de", "en", "es", "it", "fr", "nl", "pl")
DESCRIPTOR_FORBIDDEN = set("/(){}")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _currency(params: dict[str, Any]) -> str:
    currency = _string(params, "currency", max_length=3)
    if currency is None:
        raise _missing("currency")
    if currency.upper() not in SOFORT_CURRENCIES:
        allowed = ", ".join(c.lower() for c in SOFORT_CURRENCIES)
        raise _invalid(E.INVALID_CURRENCY, f"Sofort only supports {allowed}, not {currency}", "currency")
    return currency.upper()


def _descriptor(params: dict[str, Any]) -> str | None:
    value = _string(params, "statement_descriptor", max_length=10_000)
    if value is None:
        return None
    if len(value) > DESCRIPTOR_MAX or DESCRIPTOR_FORBIDDEN & set(value):
        raise _invalid(
            E.PARAMETER_INVALID,
            f"Invalid statement_descriptor: Sofort allows at most {DESCRIPTOR_MAX} characters and none of / ( ) {{ }}",
            "statement_descriptor",
        )
    return value


@dataclass(frozen=True)
class SourceIn:
    amount: int
    currency: str
    return_url: str
    country: str
    preferred_language: str | None
    statement_descriptor: str | None
    owner: dict[str, Any]
    metadata: dict[str, str]
    scenario: Scenario


_OWNER_FIELDS = {"email", "name", "phone", "address"}
_SOURCE_PARAMS = {"type", "amount", "currency", "redirect", "sofort", "statement_descriptor", "owner", "metadata",
                  "usage", "flow", "expand"}  # fmt: skip


def owner_in(params: dict[str, Any]) -> dict[str, Any]:
    owner = _hash(params, "owner")
    for key, value in owner.items():
        if key not in _OWNER_FIELDS:
            raise _invalid(E.PARAMETER_UNKNOWN, f"Received unknown parameter: owner[{key}]", f"owner[{key}]")
        if key != "address" and not isinstance(value, str):
            raise _invalid(E.PARAMETER_INVALID, f"Invalid string: owner[{key}]", f"owner[{key}]")
    return {k: v for k, v in owner.items() if v != ""}


def _scenario(owner: dict[str, Any]) -> Scenario:
    """The seed's magic values (test mode only, which is all Kasse has)."""
    email, name = str(owner.get("email") or ""), owner.get("name")
    approval = Approval.APPROVE_SHORTLY if email.lower().endswith("_chargeable@example.com") else Approval.CUSTOMER
    settlement = {"succeeding_charge": Settlement.SUCCEED_AT_ONCE, "failing_charge": Settlement.FAIL_AT_ONCE}
    return Scenario(approval, settlement.get(str(name), Settlement.SUCCEED))


# Size rule exception: Stripe's checks one after another, in Stripe's order.
def source_in(params: dict[str, Any]) -> SourceIn:  # noqa: C901
    check_known(params, _SOURCE_PARAMS)
    kind = _string(params, "type")
    if kind is None:
        raise _missing("type")
    if kind != "sofort":
        raise _invalid(
            S.PAYMENT_METHOD_NOT_AVAILABLE, f"Kasse's Stripe dialect supports type=sofort, not {kind}", "type"
        )
    amount = _integer(params, "amount")
    if amount is None:
        raise _missing("amount")
    currency = _currency(params)
    if amount < MIN_AMOUNT:
        least = f"{minor_to_major(MIN_AMOUNT, currency).normalize():f} {currency}"
        message = f"Sofort enforces a minimum payment amount of {least} (amount={MIN_AMOUNT})."
        raise _invalid(S.AMOUNT_TOO_SMALL, message, "amount")
    if amount > MAX_AMOUNT:
        raise _invalid(S.AMOUNT_TOO_LARGE, f"Amount must be no more than {MAX_AMOUNT}.", "amount")
    for name, only in (("usage", "single_use"), ("flow", "redirect")):
        value = _string(params, name)
        if value is not None and value != only:
            raise _invalid(E.PARAMETER_INVALID, f"Invalid {name}: Sofort sources are {only}", name)
    return_url = _url(_hash(params, "redirect"), "return_url", param="redirect[return_url]")
    if not return_url:
        raise _missing("redirect[return_url]")
    sofort = _hash(params, "sofort")
    country = _string(sofort, "country", param="sofort[country]", max_length=2)
    if not country:
        raise _missing("sofort[country]")
    if country.upper() not in SOFORT_COUNTRIES:
        raise _invalid(
            None,
            f"The country {country} is not supported by Sofort; use one of {', '.join(SOFORT_COUNTRIES)}",
            "sofort[country]",
        )
    language = _string(sofort, "preferred_language", param="sofort[preferred_language]")
    if language is not None and language not in LANGUAGES:
        raise _invalid(
            E.PARAMETER_INVALID,
            f"Invalid sofort[preferred_language]: must be one of {', '.join(LANGUAGES)}",
            "sofort[preferred_language]",
        )
    owner = owner_in(params)
    metadata = {k: v for k, v in metadata_in(params).items() if v is not None}
    return SourceIn(
        amount=amount, currency=currency, return_url=return_url, country=country.upper(),
        preferred_language=language, statement_descriptor=_descriptor(params), owner=owner, metadata=metadata,
        scenario=_scenario(owner),
    )  # fmt: skip


@dataclass(frozen=True)
class ChargeIn:
    amount: int
    currency: str
    source: str
    description: str | None
    metadata: dict[str, str]
    statement_descriptor: str | None = None
    statement_descriptor_suffix: str | None = None
    receipt_email: str | None = None


_CHARGE_PARAMS = {"amount", "currency", "source", "description", "metadata", "statement_descriptor",
                  "statement_descriptor_suffix", "capture", "receipt_email", "expand"}  # fmt: skip


def charge_in(params: dict[str, Any]) -> ChargeIn:
    check_known(params, _CHARGE_PARAMS)
    amount = _integer(params, "amount")
    if amount is None:
        raise _missing("amount")
    currency = _string(params, "currency", max_length=3)
    if currency is None:
        raise _missing("currency")
    source = _string(params, "source", max_length=100)
    if not source:
        raise _invalid(E.PARAMETER_MISSING, "Must provide source or customer.", "source")
    if amount < 1:
        raise _invalid(S.AMOUNT_TOO_SMALL, "Amount must be at least 1 cent", "amount")
    descriptor = _charge_descriptor(params)  # kept and shown; the seed says it has no other effect
    capture = _string(params, "capture")
    if capture == "false":
        raise _invalid(E.PARAMETER_INVALID, "Sofort charges cannot be authorized only: omit capture", "capture")
    metadata = {k: v for k, v in metadata_in(params).items() if v is not None}
    return ChargeIn(
        amount, currency.upper(), source, _string(params, "description"), metadata, descriptor,
        _string(params, "statement_descriptor_suffix", max_length=22) or None,
        _string(params, "receipt_email", max_length=800) or None,
    )  # fmt: skip


def _charge_descriptor(params: dict[str, Any]) -> str | None:
    """Stripe: a charge's statement descriptor is at most 22 characters, not only digits, none of < > \\ ' " *."""
    value = _string(params, "statement_descriptor", max_length=10_000)
    if value is not None and (len(value) > 22 or value.isdigit() or set(value) & set("<>\\'\"*")):
        raise _invalid(
            E.PARAMETER_INVALID,
            "Invalid statement_descriptor: at most 22 characters, not only digits, none of < > \\ ' \" *",
            "statement_descriptor",
        )
    return value or None


@dataclass(frozen=True)
class RefundIn:
    charge: str | None
    amount: int | None
    reason: str | None
    metadata: dict[str, str] = field(default_factory=dict)


def refund_in(params: dict[str, Any], *, charge: str | None = None) -> RefundIn:
    allowed = {"amount", "reason", "metadata", "expand", "refund_application_fee", "reverse_transfer"}
    check_known(params, allowed if charge else allowed | {"charge", "payment_intent"})
    if charge is None:
        if params.get("payment_intent"):
            raise _invalid(
                E.PARAMETER_INVALID, "Kasse's Stripe dialect refunds charges, not PaymentIntents", "payment_intent"
            )
        charge = _string(params, "charge", max_length=100)
        if not charge:
            raise _invalid(
                E.PARAMETER_MISSING, "One of the following params should be provided: charge, payment_intent.", "charge"
            )
    amount = _integer(params, "amount")
    if amount is not None and amount < 1:
        raise _invalid(S.PARAMETER_INVALID_INTEGER, "Invalid positive integer", "amount")
    reason = _string(params, "reason")
    if reason is not None and reason not in REFUND_REASONS:
        raise _invalid(E.PARAMETER_INVALID, f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", "reason")
    metadata = {k: v for k, v in metadata_in(params).items() if v is not None}
    return RefundIn(charge, amount, reason, metadata)
