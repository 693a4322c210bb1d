"""The state machines of payments, captures and refunds: one table each, one door (``apply``).

docs/lifecycle.md is generated from these tables (``kasse docs lifecycle``), never edited by hand.
"""

from __future__ import annotations

from enum import StrEnum

from kasse.domain.errors import InvalidTransition

__all__ = [
    "CAPTURE_TRANSITIONS",
    "PAYMENT_TRANSITIONS",
    "REFUND_TRANSITIONS",
    "CaptureState",
    "CaptureTrigger",
    "PaymentState",
    "PaymentTrigger",
    "RefundState",
    "RefundTrigger",
    "apply_capture",
    "apply_payment",
    "apply_refund",
    "mermaid",
]


class PaymentState(StrEnum):
    REQUIRES_ACTION = "requires_action"
    AUTHORIZED = "authorized"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self in (PaymentState.FAILED, PaymentState.CANCELED, PaymentState.EXPIRED)


class PaymentTrigger(StrEnum):
    AUTHORIZE = "authorize"  # the customer approved at the bank / Klarna
    DECLINE = "decline"  # the bank or Klarna declined
    CANCEL = "cancel"  # the customer aborted, the merchant voided, or an authorization went unused
    EXPIRE = "expire"  # the customer never finished in time, or the authorization window closed
    CAPTURE = "capture"  # money set in motion (a capture object is created)
    SETTLE = "settle"  # the money of a capture arrived
    FAIL = "fail"  # the money never arrived before the cut-off


S, T = PaymentState, PaymentTrigger

PAYMENT_TRANSITIONS: dict[tuple[PaymentState, PaymentTrigger], PaymentState] = {
    (S.REQUIRES_ACTION, T.AUTHORIZE): S.AUTHORIZED,
    (S.REQUIRES_ACTION, T.DECLINE): S.FAILED,
    (S.REQUIRES_ACTION, T.CANCEL): S.CANCELED,
    (S.REQUIRES_ACTION, T.EXPIRE): S.EXPIRED,
    (S.AUTHORIZED, T.CAPTURE): S.PROCESSING,
    (S.AUTHORIZED, T.CANCEL): S.CANCELED,
    (S.AUTHORIZED, T.EXPIRE): S.EXPIRED,
    # Further partial captures while the rest of the authorization is still open (PAYONE
    # sequencenumber, Klarna): the payment keeps its state, the capture object carries the progress.
    (S.PROCESSING, T.CAPTURE): S.PROCESSING,
    (S.SUCCEEDED, T.CAPTURE): S.SUCCEEDED,
    (S.PROCESSING, T.SETTLE): S.SUCCEEDED,
    (S.PROCESSING, T.FAIL): S.FAILED,
}
del S, T


class CaptureState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class CaptureTrigger(StrEnum):
    SETTLE = "settle"
    FAIL = "fail"


CAPTURE_TRANSITIONS: dict[tuple[CaptureState, CaptureTrigger], CaptureState] = {
    (CaptureState.PENDING, CaptureTrigger.SETTLE): CaptureState.SUCCEEDED,
    (CaptureState.PENDING, CaptureTrigger.FAIL): CaptureState.FAILED,
}


class RefundState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class RefundTrigger(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"
    CANCEL = "cancel"  # the payment it waited on failed


REFUND_TRANSITIONS: dict[tuple[RefundState, RefundTrigger], RefundState] = {
    (RefundState.PENDING, RefundTrigger.SUCCEED): RefundState.SUCCEEDED,
    (RefundState.PENDING, RefundTrigger.FAIL): RefundState.FAILED,
    (RefundState.PENDING, RefundTrigger.CANCEL): RefundState.CANCELED,
}


def apply_payment(state: PaymentState, trigger: PaymentTrigger) -> PaymentState:
    try:
        return PAYMENT_TRANSITIONS[(state, trigger)]
    except KeyError:
        raise InvalidTransition("payment", state.value, trigger.value) from None


def apply_capture(state: CaptureState, trigger: CaptureTrigger) -> CaptureState:
    try:
        return CAPTURE_TRANSITIONS[(state, trigger)]
    except KeyError:
        raise InvalidTransition("capture", state.value, trigger.value) from None


def apply_refund(state: RefundState, trigger: RefundTrigger) -> RefundState:
    try:
        return REFUND_TRANSITIONS[(state, trigger)]
    except KeyError:
        raise InvalidTransition("refund", state.value, trigger.value) from None


def mermaid(table: dict[tuple[StrEnum, StrEnum], StrEnum], initial: StrEnum) -> str:
    """A Mermaid state diagram of a transition table (the docs' diagram is generated, not drawn)."""
    lines = ["stateDiagram-v2", f"    [*] --> {initial.value}"]
    for (src, trigger), dst in table.items():
        lines.append(f"    {src.value} --> {dst.value}: {trigger.value}")
    return "\n".join(lines)
