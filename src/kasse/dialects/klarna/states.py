"""The payment request's state machine: one table, one door (``apply_request``), like the engine's.

States and transitions as Klarna's Web SDK types them (``PaymentRequestState``, v2-r8): SUBMITTED →
IN_PROGRESS when the customer enters the purchase journey, back to SUBMITTED when the customer leaves it
(``PURCHASE_FLOW_ABORTED``), and on to COMPLETED (approved: tokens issued), DECLINED, CANCELED (the
partner's DELETE) or EXPIRED (``expires_at`` passed on the merchant's clock). docs/klarna.md shows the
diagram generated from this table (``mermaid``).
"""

from __future__ import annotations

from enum import StrEnum

from kasse.domain.errors import InvalidTransition

__all__ = ["REQUEST_TRANSITIONS", "RequestState", "RequestTrigger", "apply_request"]


class RequestState(StrEnum):
    SUBMITTED = "SUBMITTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"

    @property
    def final(self) -> bool:
        return self not in (RequestState.SUBMITTED, RequestState.IN_PROGRESS)


class RequestTrigger(StrEnum):
    OPEN = "open"  # the customer opened the purchase journey (the approval page)
    ABORT = "abort"  # the customer left the journey without deciding
    APPROVE = "approve"  # the customer approved; Klarna issues the tokens
    DECLINE = "decline"  # Klarna (or the customer) declined
    CANCEL = "cancel"  # the partner canceled (DELETE)
    EXPIRE = "expire"  # expires_at passed


S, T = RequestState, RequestTrigger

REQUEST_TRANSITIONS: dict[tuple[RequestState, RequestTrigger], RequestState] = {
    (S.SUBMITTED, T.OPEN): S.IN_PROGRESS,
    (S.SUBMITTED, T.CANCEL): S.CANCELED,
    (S.SUBMITTED, T.EXPIRE): S.EXPIRED,
    (S.IN_PROGRESS, T.OPEN): S.IN_PROGRESS,  # the page opened again (a reload, a second tab)
    (S.IN_PROGRESS, T.ABORT): S.SUBMITTED,
    (S.IN_PROGRESS, T.APPROVE): S.COMPLETED,
    (S.IN_PROGRESS, T.DECLINE): S.DECLINED,
    (S.IN_PROGRESS, T.CANCEL): S.CANCELED,
    (S.IN_PROGRESS, T.EXPIRE): S.EXPIRED,
}
del S, T


def apply_request(state: RequestState, trigger: RequestTrigger) -> RequestState:
    try:
        return REQUEST_TRANSITIONS[(state, trigger)]
    except KeyError:
        raise InvalidTransition("payment request", state.value, trigger.value) from None
