"""Payment use cases: create, authorize, decline, cancel, capture, expire, settle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from kasse.domain.errors import Conflict, ErrorCode, InvalidRequest
from kasse.domain.events import EventType
from kasse.domain.ids import new_token
from kasse.domain.ledger import Account
from kasse.domain.models import (
    Approval,
    CaptureMethod,
    Method,
    Payment,
    Scenario,
    TimerKind,
)
from kasse.domain.money import exponent, require_minor
from kasse.domain.rules import ProviderRules
from kasse.domain.states import (
    PaymentState,
    PaymentTrigger,
    apply_payment,
)
from kasse.engine import captures, postings
from kasse.engine.lifecycle import get_payment, release_hold, transition
from kasse.engine.unit import Tx

__all__ = [
    "CreatePayment",
    "authorization_expired",
    "authorize",
    "cancel",
    "create_payment",
    "decline",
    "expire",
    "extend_expiry",
    "get_payment",
    "scenario_approval",
    "update_details",
]


@dataclass(frozen=True)
class CreatePayment:
    amount_minor: int
    currency: str
    method: Method
    origin: str  # the dialect it came through: its rules apply
    country: str | None = None
    description: str | None = None
    reference: str | None = None
    return_url: str | None = None
    cancel_url: str | None = None
    customer: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    provider_data: dict[str, Any] = field(default_factory=dict)
    capture_method: CaptureMethod = CaptureMethod.AUTOMATIC
    expires_in_s: int | None = None
    scenario: Scenario = field(default_factory=Scenario)


def validate(cmd: CreatePayment, rules: ProviderRules) -> None:
    """Everything checked before anything is written (rule 8), by the rules of the payment's origin."""
    exponent(cmd.currency)
    require_minor(cmd.amount_minor)
    if cmd.expires_in_s is not None and not (
        isinstance(cmd.expires_in_s, int) and not isinstance(cmd.expires_in_s, bool) and cmd.expires_in_s > 0
    ):
        # A payment expired at birth would fire its expiry at a time before its own creation.
        raise InvalidRequest(
            ErrorCode.INVALID_EXPIRES_IN, "expires_in must be a positive number of seconds", param="expires_in"
        )
    if not rules.min_amount_minor <= cmd.amount_minor <= rules.max_amount_minor:
        raise InvalidRequest(
            ErrorCode.AMOUNT_OUT_OF_RANGE,
            f"amount must be between {rules.min_amount_minor} and {rules.max_amount_minor} minor units",
            param="amount",
        )
    if cmd.currency not in rules.currencies[cmd.method]:
        allowed = ", ".join(sorted(rules.currencies[cmd.method]))
        raise InvalidRequest(
            ErrorCode.CURRENCY_NOT_SUPPORTED,
            f"{cmd.method.value} does not support {cmd.currency}; use one of {allowed}",
            param="currency",
        )
    if cmd.country is not None and cmd.country not in rules.countries[cmd.method]:
        allowed = ", ".join(sorted(rules.countries[cmd.method]))
        raise InvalidRequest(
            ErrorCode.COUNTRY_NOT_SUPPORTED,
            f"{cmd.method.value} is not available in {cmd.country}; use one of {allowed}",
            param="country",
        )
    if cmd.method.is_klarna and cmd.country is not None:
        expected = rules.country_currency.get(cmd.country)
        if expected is not None and expected != cmd.currency:
            raise InvalidRequest(
                ErrorCode.CURRENCY_COUNTRY_MISMATCH,
                f"Klarna in {cmd.country} takes {expected}, not {cmd.currency}",
                param="currency",
            )
    if (
        cmd.method is Method.SOFORT
        and cmd.capture_method is CaptureMethod.MANUAL
        and Method.SOFORT not in rules.manual_capture_methods
    ):
        raise InvalidRequest(
            ErrorCode.CAPTURE_METHOD_NOT_SUPPORTED,
            "Sofort is always captured with the authorization; use capture=automatic",
            param="capture",
        )


def create_payment(tx: Tx, cmd: CreatePayment) -> Payment:
    rules = tx.rules_of(cmd.origin)
    validate(cmd, rules)
    expires_in_s = cmd.expires_in_s if cmd.expires_in_s is not None else rules.action_window_s
    payment = Payment(
        id=tx.new_id("payment"),
        merchant_id=tx.merchant_id,
        origin=cmd.origin,
        amount_minor=cmd.amount_minor,
        currency=cmd.currency,
        method=cmd.method,
        country=cmd.country,
        status=PaymentState.REQUIRES_ACTION,
        capture_method=cmd.capture_method,
        redirect_token=new_token(),
        created_at=tx.now,
        updated_at=tx.now,
        expires_at=tx.now + timedelta(seconds=expires_in_s),
        description=cmd.description,
        reference=cmd.reference,
        return_url=cmd.return_url,
        cancel_url=cmd.cancel_url,
        customer=dict(cmd.customer),
        metadata=dict(cmd.metadata),
        provider_data=dict(cmd.provider_data),
        scenario=cmd.scenario,
    )
    tx.store.insert_payment(payment)
    tx.emit(EventType.PAYMENT_CREATED, payment)
    tx.schedule(TimerKind.PAYMENT_EXPIRY, payment.id, after_s=expires_in_s)
    if cmd.scenario.approval is Approval.APPROVE:
        return authorize(tx, payment.id)
    if cmd.scenario.approval is Approval.DECLINE:
        return decline(tx, payment.id)
    if cmd.scenario.approval is Approval.APPROVE_SHORTLY:
        tx.schedule(TimerKind.SCENARIO_APPROVAL, payment.id, after_s=rules.scenario_approval_delay_s)
    return payment


def scenario_approval(tx: Tx, payment_id: str) -> Payment | None:
    """Timer: the simulated bank approves a payment created with ``Approval.APPROVE_SHORTLY``, unless
    something else happened to it first."""
    payment = get_payment(tx, payment_id)
    if payment.status is not PaymentState.REQUIRES_ACTION or tx.now >= payment.expires_at:
        return None
    return authorize(tx, payment_id)


def update_details(
    tx: Tx,
    payment_id: str,
    *,
    metadata: dict[str, str | None] | None = None,
    customer: dict[str, Any] | None = None,
    provider_data: dict[str, Any] | None = None,
) -> Payment:
    """Change what the merchant may change at any time: metadata (a None value removes the key),
    customer details, the dialect's own data. No state change, no event."""
    payment = get_payment(tx, payment_id)
    if provider_data:
        payment.provider_data = {**payment.provider_data, **provider_data}
    for key, value in (metadata or {}).items():
        if value is None:
            payment.metadata.pop(key, None)
        else:
            payment.metadata[key] = value
    if customer:
        payment.customer = {**payment.customer, **customer}
    payment.updated_at = tx.now
    tx.store.update_payment(payment)
    return payment


def _require_open(tx: Tx, payment: Payment) -> None:
    """The customer's deadline counts from the instant it passes, not from when the expiry timer gets
    to fire (the scheduler polls live clocks): a late answer from the bank is refused."""
    if tx.now >= payment.expires_at:
        raise Conflict(ErrorCode.PAYMENT_EXPIRED, f"Payment {payment.id} expired at {payment.expires_at.isoformat()}")


def authorize(tx: Tx, payment_id: str) -> Payment:
    """The customer approved: hold the amount; capture at once unless capture is manual."""
    payment = get_payment(tx, payment_id)
    apply_payment(payment.status, PaymentTrigger.AUTHORIZE)  # raises before anything is written
    _require_open(tx, payment)
    held = postings.hold(
        tx, currency=payment.currency, source=Account.CUSTOMER, destination=Account.INCOMING,
        amount_minor=payment.amount_minor, code="authorization", payment_id=payment.id,
    )  # fmt: skip
    payment.hold_transfer_id = held.id
    payment.amount_capturable_minor = payment.amount_minor
    payment.authorized_at = tx.now
    transition(tx, payment, PaymentTrigger.AUTHORIZE)
    if payment.capture_method is CaptureMethod.AUTOMATIC:
        captures.capture(tx, payment.id, payment=payment)
    else:
        tx.schedule(
            TimerKind.AUTHORIZATION_EXPIRY,
            payment.id,
            after_s=tx.rules_of(payment.origin).unused_authorization_s,
        )
    return payment


def decline(tx: Tx, payment_id: str, *, code: str = "bank_declined", message: str | None = None) -> Payment:
    payment = get_payment(tx, payment_id)
    apply_payment(payment.status, PaymentTrigger.DECLINE)
    _require_open(tx, payment)
    payment.failure_code = code
    payment.failure_message = message or "The customer's bank declined the payment"
    transition(tx, payment, PaymentTrigger.DECLINE)
    return payment


def cancel(tx: Tx, payment_id: str, *, reason: str = "requested_by_customer") -> Payment:
    payment = get_payment(tx, payment_id)
    apply_payment(payment.status, PaymentTrigger.CANCEL)
    release_hold(tx, payment, "authorization_canceled")
    payment.cancellation_reason = reason
    transition(tx, payment, PaymentTrigger.CANCEL)
    return payment


def expire(tx: Tx, payment_id: str) -> Payment | None:
    """Timer: the customer never finished. Does nothing if the payment moved on meanwhile."""
    payment = get_payment(tx, payment_id)
    if payment.status is not PaymentState.REQUIRES_ACTION or tx.now < payment.expires_at:
        return None  # moved on, or its deadline was extended (a later timer expires it)
    transition(tx, payment, PaymentTrigger.EXPIRE)
    return payment


def extend_expiry(tx: Tx, payment_id: str, *, by_s: int) -> Payment:
    """Give the customer ``by_s`` more seconds from now (MultiSafepay ``extend_expiration``). The old
    expiry timer still fires and finds the deadline moved; a new one fires at the new deadline."""
    payment = get_payment(tx, payment_id)
    if payment.status is not PaymentState.REQUIRES_ACTION:
        raise Conflict(
            ErrorCode.PAYMENT_NOT_OPEN,
            f"Payment {payment.id} is {payment.status.value}; only an open payment can be extended",
        )
    _require_open(tx, payment)
    payment.expires_at = tx.now + timedelta(seconds=by_s)
    payment.updated_at = tx.now
    tx.store.update_payment(payment)
    tx.schedule(TimerKind.PAYMENT_EXPIRY, payment.id, after_s=by_s)
    return payment


def authorization_expired(tx: Tx, payment_id: str) -> Payment | None:
    """Timer: an authorization went unused (Stripe: canceled after 6 h; native: expired after 7 days).
    After partial captures the rest of the hold is released and the state stays."""
    payment = get_payment(tx, payment_id)
    if payment.status is PaymentState.AUTHORIZED:
        trigger = tx.rules_of(payment.origin).unused_authorization_trigger
        release_hold(tx, payment, "authorization_expired")
        if trigger is PaymentTrigger.CANCEL:
            payment.cancellation_reason = "abandoned"
        transition(tx, payment, trigger)
        return payment
    if payment.amount_capturable_minor:
        release_hold(tx, payment, "authorization_expired")
        payment.updated_at = tx.now
        tx.store.update_payment(payment)
    return None
