"""Stripe's request parameters, decoded from the bracket form and checked in Stripe's words (error code
and ``param`` as Stripe names them), before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kasse.dialects.stripe.errors import StripeCode as S
from kasse.dialects.stripe.errors import StripeRefusal
from kasse.dialects.stripe.rules import RULES as STRIPE
from kasse.domain.errors import ErrorCode as E
from kasse.domain.errors import InvalidRequest
from kasse.domain.models import Approval, Method, Scenario, Settlement
from kasse.domain.money import minor_to_major
from kasse.domain.urls import http_url_problem

__all__ = [
    "ChargeIn",
    "ListIn",
    "RefundIn",
    "SourceIn",
    "charge_in",
    "check_known",
    "endpoint_in",
    "list_in",
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
# Stripe's metadata limits: 50 keys, key names up to 40 characters, values up to 500.
MAX_METADATA_KEYS, MAX_KEY, MAX_VALUE = 50, 40, 500

EVENT_TYPES = frozenset({
    "source.chargeable", "source.failed", "source.canceled", "charge.pending", "charge.succeeded",
    "charge.failed", "charge.refunded", "charge.refund.updated", "charge.updated", "charge.captured",
    "charge.expired", "source.mandate_notification", "source.refund_attributes_required",
    "source.transaction.created", "source.transaction.updated", "charge.dispute.created",
})  # fmt: skip


def _invalid(code: E | S, message: str, param: str) -> InvalidRequest:
    if isinstance(code, S):
        return StripeRefusal(code, message, param=param)
    return InvalidRequest(code, message, param=param)


def _missing(param: str) -> InvalidRequest:
    return _invalid(E.PARAMETER_MISSING, f"Missing required param: {param}.", param)


def check_known(params: dict[str, Any], allowed: set[str]) -> None:
    for key in params:
        if key not in allowed:
            raise _invalid(E.PARAMETER_UNKNOWN, f"Received unknown parameter: {key}", key)


def _string(params: dict[str, Any], name: str, *, param: str | None = None, max_length: int = 5000) -> str | None:
    value = params.get(name)
    param = param or name
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(S.PARAMETER_INVALID_STRING, f"Invalid string: {param} must be a string", param)
    if len(value) > max_length:
        raise _invalid(E.PARAMETER_INVALID, f"Invalid {param}: at most {max_length} characters", param)
    return value


def _url(params: dict[str, Any], name: str, *, param: str | None = None) -> str | None:
    """Stripe answers a bad URL with ``url_invalid`` and "Not a valid URL" (its error-code list)."""
    param = param or name
    value = _string(params, name, param=param, max_length=10_000)
    problem = None if not value else http_url_problem(value)
    if problem is not None:
        raise _invalid(E.URL_INVALID, f"Not a valid URL: {param} {problem}", param)
    return value


def _integer(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip().lstrip("-").isdigit():
        raise _invalid(S.PARAMETER_INVALID_INTEGER, f"Invalid integer: {value}", name)
    return int(value)


def _hash(params: dict[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise _invalid(E.PARAMETER_INVALID, f"Invalid hash: {name} must be a hash", name)
    return value


def metadata_in(params: dict[str, Any]) -> dict[str, str | None]:
    """Stripe's metadata update semantics: a key set to "" is removed (None here)."""
    raw = _hash(params, "metadata")
    if len(raw) > MAX_METADATA_KEYS:
        raise _invalid(E.PARAMETER_INVALID, f"Invalid metadata: at most {MAX_METADATA_KEYS} keys", "metadata")
    out: dict[str, str | None] = {}
    for key, value in raw.items():
        param = f"metadata[{key}]"
        if len(key) > MAX_KEY:
            raise _invalid(E.PARAMETER_INVALID, f"Invalid metadata key: at most {MAX_KEY} characters", param)
        if not isinstance(value, str):
            raise _invalid(E.PARAMETER_INVALID, f"Invalid metadata value for {key}: must be a string", param)
        if len(value) > MAX_VALUE:
            raise _invalid(E.PARAMETER_INVALID, f"Invalid metadata value: at most {MAX_VALUE} characters", param)
        out[key] = value or None
    return out


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
            raise _invalid(S.PARAMETER_INVALID_STRING, f"Invalid string: owner[{key}]", f"owner[{key}]")
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
        raise _invalid(E.INVALID_AMOUNT, message, "amount")
    if amount > MAX_AMOUNT:
        raise _invalid(E.INVALID_AMOUNT, f"Amount must be no more than {MAX_AMOUNT}.", "amount")
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
            S.INVALID_SOFORT_COUNTRY,
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
    _string(params, "statement_descriptor")  # accepted and ignored: the seed says it has no effect
    capture = _string(params, "capture")
    if capture == "false":
        raise _invalid(E.PARAMETER_INVALID, "Sofort charges cannot be authorized only: omit capture", "capture")
    metadata = {k: v for k, v in metadata_in(params).items() if v is not None}
    return ChargeIn(amount, currency.upper(), source, _string(params, "description"), metadata)


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


@dataclass(frozen=True)
class ListIn:
    limit: int
    starting_after: str | None
    ending_before: str | None


def list_in(params: dict[str, Any]) -> ListIn:
    limit = _integer(params, "limit")
    if limit is not None and not 1 <= limit <= 100:
        raise _invalid(S.PARAMETER_INVALID_INTEGER, "Invalid limit: must be between 1 and 100", "limit")
    after = _string(params, "starting_after", max_length=100)
    before = _string(params, "ending_before", max_length=100)
    if after and before:
        raise _invalid(
            E.PARAMETER_INVALID,
            "You may only specify one of these parameters: starting_after, ending_before.",
            "ending_before",
        )
    return ListIn(limit or 10, after or None, before or None)


def expand_in(params: dict[str, Any]) -> set[str]:
    value = params.get("expand")
    if value is None:
        return set()
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, str) for i in items):
        raise _invalid(E.PARAMETER_INVALID, "Invalid array: expand", "expand")
    return {str(i) for i in items}


def endpoint_in(params: dict[str, Any], *, creating: bool) -> tuple[str | None, list[str] | None, str | None]:
    check_known(
        params, {"url", "enabled_events", "description", "api_version", "metadata", "connect", "disabled", "expand"}
    )
    url = _url(params, "url")
    if creating and not url:
        raise _missing("url")
    events = params.get("enabled_events")
    if creating and not events:
        raise _missing("enabled_events")
    if events is not None:
        events = events if isinstance(events, list) else [events]
        for index, name in enumerate(events):
            if name != "*" and name not in EVENT_TYPES:
                raise _invalid(
                    E.PARAMETER_INVALID, f"Invalid enabled_events[{index}]: {name}", f"enabled_events[{index}]"
                )
    return url, events, _string(params, "description")
