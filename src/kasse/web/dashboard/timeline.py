"""A payment's whole history for its dashboard page: every state change, event, notification attempt
(request, response, latency) and timer, in time order; and which actions its state allows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kasse.domain.models import CaptureMethod, Payment
from kasse.domain.states import PAYMENT_TRANSITIONS, PaymentState, PaymentTrigger
from kasse.domain.webhooks import Delivery
from kasse.storage.store import Store

__all__ = ["Entry", "History", "history_of", "legal_actions"]


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    kind: str  # state | event | attempt | timer
    title: str
    detail: str = ""
    ok: bool | None = None  # attempts: answered 2xx
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class History:
    entries: list[Entry]
    deliveries: list[tuple[Delivery, str, str]]  # (delivery, event type, endpoint url)
    captures: list[Any]
    refunds: list[Any]


def _pretty(text: str | None) -> str:
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


def _attempt_entry(attempt: dict[str, Any], event_type: str) -> Entry:
    status = attempt["response_status"]
    answer = f"HTTP {status}" if status is not None else (attempt["error"] or "no answer")
    return Entry(
        attempt["attempted_at"], "attempt",
        f"Notification {event_type} → {answer} in {attempt['latency_ms'] or 0} ms "
        f"(attempt {attempt['number']}, {attempt['trigger']})",
        attempt["url"], ok=bool(attempt["succeeded"]),
        extra={"request_headers": json.dumps(attempt["request_headers"], indent=2),
               "request_body": _pretty(attempt["request_body"]), "response_body": _pretty(attempt["response_body"])},
    )  # fmt: skip


def history_of(store: Store, *, merchant_id: str, payment: Payment) -> History:
    captures = store.captures_of(merchant_id=merchant_id, payment_id=payment.id)
    refunds = store.refunds_of(merchant_id=merchant_id, payment_id=payment.id)
    events = store.events_of_payment(merchant_id=merchant_id, payment_id=payment.id)
    types = {e.id: e.type for e in events}
    entries: list[Entry] = []
    for e in events:
        is_state = e.type.startswith("payment.")
        state = e.type.split(".", 1)[1] if is_state else ""
        title = f"State → {state}" if is_state else f"Event {e.type}"
        entries.append(Entry(e.created_at, "state" if is_state else "event", title, f"{e.id} · {e.type}"))
    deliveries = store.deliveries_of_events(merchant_id=merchant_id, event_ids=list(types))
    attempts = store.attempts_of_deliveries(merchant_id=merchant_id, delivery_ids=[d.id for d in deliveries])
    urls: dict[str, str] = {}
    for d in deliveries:
        for attempt in attempts[d.id]:
            entries.append(_attempt_entry(attempt, types[d.event_id]))
            urls.setdefault(d.id, attempt["url"])
    for timer in store.timers_of_payment(merchant_id=merchant_id, payment_id=payment.id, captures=captures,
                                         refunds=refunds):  # fmt: skip
        entries.append(Entry(timer.created_at, "timer", f"Timer {timer.kind} scheduled", f"due {timer.due_at}"))
        if timer.fired_at is not None:
            entries.append(Entry(timer.fired_at, "timer", f"Timer {timer.kind} fired", timer.subject_id))
    entries.sort(key=lambda entry: (entry.at, entry.kind != "state"))
    listed = [(d, types[d.event_id], urls.get(d.id, d.endpoint_id)) for d in deliveries]
    return History(entries, listed, captures, refunds)


def legal_actions(payment: Payment) -> list[str]:
    """The buttons this payment's state allows; the engine still decides (a refused action says why)."""

    def allowed(trigger: PaymentTrigger) -> bool:
        return (payment.status, trigger) in PAYMENT_TRANSITIONS

    actions = []
    if allowed(PaymentTrigger.AUTHORIZE):
        actions += ["approve", "decline"]
    manual = payment.capture_method is CaptureMethod.MANUAL
    if allowed(PaymentTrigger.CAPTURE) and payment.amount_capturable_minor > 0 and manual:
        actions.append("capture")
    paid = payment.status in (PaymentState.PROCESSING, PaymentState.SUCCEEDED)
    if paid and payment.amount_captured_minor > payment.amount_refunded_minor:
        actions.append("refund")
    if allowed(PaymentTrigger.CANCEL):
        actions.append("cancel")
    return actions
