"""The state tables: one door each; every pair not in a table is refused, naming state and trigger."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from enum import StrEnum

import pytest

from kasse.domain.errors import DomainError, InvalidTransition
from kasse.domain.events import EventType
from kasse.domain.states import (
    CAPTURE_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    REFUND_TRANSITIONS,
    CaptureState,
    CaptureTrigger,
    PaymentState,
    PaymentTrigger,
    RefundState,
    RefundTrigger,
    apply_capture,
    apply_payment,
    apply_refund,
    mermaid,
)

P, T = PaymentState, PaymentTrigger

MACHINES: list[tuple[str, dict, type[StrEnum], type[StrEnum], Callable]] = [  # type: ignore[type-arg]
    ("payment", PAYMENT_TRANSITIONS, PaymentState, PaymentTrigger, apply_payment),
    ("capture", CAPTURE_TRANSITIONS, CaptureState, CaptureTrigger, apply_capture),
    ("refund", REFUND_TRANSITIONS, RefundState, RefundTrigger, apply_refund),
]


def _pairs(allowed: bool) -> list[tuple[str, StrEnum, StrEnum]]:
    out = []
    for name, table, states, triggers, _ in MACHINES:
        for state, trigger in itertools.product(states, triggers):
            if ((state, trigger) in table) is allowed:
                out.append((name, state, trigger))
    return out


def _apply(name: str) -> Callable[[StrEnum, StrEnum], StrEnum]:
    return next(m[4] for m in MACHINES if m[0] == name)  # type: ignore[no-any-return]


def test_payment_table_is_the_specified_lifecycle() -> None:
    assert PAYMENT_TRANSITIONS == {
        (P.REQUIRES_ACTION, T.AUTHORIZE): P.AUTHORIZED,
        (P.REQUIRES_ACTION, T.DECLINE): P.FAILED,
        (P.REQUIRES_ACTION, T.CANCEL): P.CANCELED,
        (P.REQUIRES_ACTION, T.EXPIRE): P.EXPIRED,
        (P.AUTHORIZED, T.CAPTURE): P.PROCESSING,
        (P.AUTHORIZED, T.CANCEL): P.CANCELED,
        (P.AUTHORIZED, T.EXPIRE): P.EXPIRED,
        (P.PROCESSING, T.CAPTURE): P.PROCESSING,
        (P.SUCCEEDED, T.CAPTURE): P.SUCCEEDED,
        (P.PROCESSING, T.SETTLE): P.SUCCEEDED,
        (P.PROCESSING, T.FAIL): P.FAILED,
    }


@pytest.mark.parametrize(("name", "state", "trigger"), _pairs(allowed=True))
def test_allowed_pairs_lead_to_the_table_state(name: str, state: StrEnum, trigger: StrEnum) -> None:
    table = next(m[1] for m in MACHINES if m[0] == name)
    assert _apply(name)(state, trigger) is table[(state, trigger)]


@pytest.mark.parametrize(("name", "state", "trigger"), _pairs(allowed=False))
def test_every_other_pair_raises_naming_state_and_trigger(name: str, state: StrEnum, trigger: StrEnum) -> None:
    with pytest.raises(InvalidTransition) as err:
        _apply(name)(state, trigger)
    exc = err.value
    assert isinstance(exc, DomainError)
    assert (exc.machine, exc.state, exc.trigger) == (name, state.value, trigger.value)
    assert exc.code == "invalid_state"
    assert f"'{state.value}'" in exc.message and trigger.value in exc.message and name in exc.message


def test_terminal_payment_states_have_no_exits() -> None:
    terminal = {s for s in PaymentState if s.terminal}
    assert terminal == {P.FAILED, P.CANCELED, P.EXPIRED}
    assert not [pair for pair in PAYMENT_TRANSITIONS if pair[0] in terminal]


def test_succeeded_only_takes_further_captures() -> None:
    exits = {(trigger, dst) for (src, trigger), dst in PAYMENT_TRANSITIONS.items() if src is P.SUCCEEDED}
    assert exits == {(T.CAPTURE, P.SUCCEEDED)}


def test_terminal_capture_and_refund_states_have_no_exits() -> None:
    assert {src for src, _ in CAPTURE_TRANSITIONS} == {CaptureState.PENDING}
    assert {src for src, _ in REFUND_TRANSITIONS} == {RefundState.PENDING}


@pytest.mark.parametrize(
    ("table", "initial", "states"),
    [
        (PAYMENT_TRANSITIONS, P.REQUIRES_ACTION, PaymentState),
        (CAPTURE_TRANSITIONS, CaptureState.PENDING, CaptureState),
        (REFUND_TRANSITIONS, RefundState.PENDING, RefundState),
    ],
)
def test_every_state_is_reachable_from_the_initial_one(table: dict, initial: StrEnum, states: type[StrEnum]) -> None:  # type: ignore[type-arg]
    seen, frontier = {initial}, [initial]
    while frontier:
        src = frontier.pop()
        for (s, _), dst in table.items():
            if s is src and dst not in seen:
                seen.add(dst)
                frontier.append(dst)
    assert seen == set(states)


def test_every_state_change_has_an_event() -> None:
    # The engine emits payment.<state> on every change; each target state must have an event type.
    targets = {dst for (src, _), dst in PAYMENT_TRANSITIONS.items() if dst is not src}
    assert {f"payment.{s.value}" for s in targets} <= {e.value for e in EventType}
    assert {f"refund.{s.value}" for s in RefundState if s is not RefundState.PENDING} <= {e.value for e in EventType}


def test_mermaid_diagram_lists_every_transition() -> None:
    diagram = mermaid(PAYMENT_TRANSITIONS, P.REQUIRES_ACTION)  # type: ignore[arg-type]
    lines = diagram.splitlines()
    assert lines[:2] == ["stateDiagram-v2", "    [*] --> requires_action"]
    assert len(lines) == 2 + len(PAYMENT_TRANSITIONS)
    assert "    processing --> succeeded: settle" in lines
