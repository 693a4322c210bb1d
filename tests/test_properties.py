"""Random sequences of operations against the engine (hypothesis, rule-based).

Each example gets a fresh merchant with its own clock. The model is deliberately thin: it predicts
*whether* the engine must accept an operation (from the state table and the amounts) and what an
accepted operation does to the payment's totals; everything else is checked by invariants after every
step: the ledger, the objects' totals, every history being a path through the tables, no timer left
due. A rejected operation must leave no row behind.

Each operation has an aimed rule (it only picks payments in a state where the operation can succeed,
so that long lives are explored) and every operation can also be tried on any payment (``attempt``).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from kasse.dialects.native.rules import RULES as NATIVE_RULES
from kasse.dialects.registry import hooks
from kasse.domain.errors import DomainError
from kasse.domain.models import Approval, CaptureMethod, Method, Payment, Scenario, Settlement
from kasse.domain.rules import DAY_S
from kasse.domain.states import CaptureState, PaymentState, PaymentTrigger, RefundState
from kasse.engine import captures, payments, refunds, timers
from kasse.engine.merchants import create_merchant
from kasse.engine.unit import Hooks, Kasse
from kasse.storage import schema
from kasse.storage.db import Database
from tests.helpers import FakeWall, advance_clock, assert_consistent, assert_time_moves_forward, dump, load_payment, run

S = PaymentState
MAX_AMOUNT = NATIVE_RULES.max_amount_minor

INDEX = st.integers(min_value=0, max_value=1_000)
# Amounts relative to what is left: the edges matter most.
AMOUNT = st.one_of(
    st.sampled_from(["default", "all", "half", "one", "over", "zero", "negative", "float"]),
    st.integers(min_value=1, max_value=20_000),
)
# Time jumps: mostly short, some landing on and just around the native deadlines.
SECONDS = st.one_of(
    st.integers(min_value=1, max_value=6 * 3600),
    st.sampled_from([DAY_S - 1, DAY_S, DAY_S + 1, 2 * DAY_S, 7 * DAY_S - 1, 7 * DAY_S, 7 * DAY_S + 1, 14 * DAY_S]),
)


@st.composite
def payment_specs(draw: st.DrawFn) -> tuple[Any, ...]:
    """Mostly payments that the engine accepts (Klarna mostly with manual capture, which has the
    longest lives); about one in six it must refuse."""
    method = draw(st.sampled_from(list(Method)))
    valid = draw(st.sampled_from([True] * 9 + [False]))
    amount = draw(st.integers(min_value=1, max_value=100_000) if valid else st.sampled_from([0, -1, MAX_AMOUNT + 1]))
    manual = draw(st.sampled_from([True, True, False] if method.is_klarna else [False] * 9 + [True]))
    currency = draw(st.sampled_from(["EUR"] * 6 + ["CHF", "CHF", "USD"]))
    approval = draw(st.sampled_from([Approval.CUSTOMER] * 3 + [Approval.APPROVE] * 2 + [Approval.DECLINE]))
    fails = draw(st.sampled_from([False, False, False, True]))
    expires_in_s = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=3 * DAY_S)))
    return method, amount, manual, currency, approval, fails, expires_in_s


PAYMENT = payment_specs()
OPERATIONS = ["authorize", "decline", "cancel", "capture", "refund"]
# Where each operation can succeed (capture and refund also need an amount left).
AIMED_AT = {
    "authorize": {S.REQUIRES_ACTION},
    "decline": {S.REQUIRES_ACTION},
    "cancel": {S.REQUIRES_ACTION, S.AUTHORIZED},
    "capture": {S.AUTHORIZED, S.PROCESSING, S.SUCCEEDED},
    "refund": {S.PROCESSING, S.SUCCEEDED},
}


def _amount(spec: int | str, left: int) -> Any:
    """The amount to ask for (``None``: the default, everything left)."""
    match spec:
        case "default":
            return None
        case "all":
            return left
        case "half":
            return max(left // 2, 1)
        case "one":
            return 1
        case "over":
            return left + 1
        case "zero":
            return 0
        case "negative":
            return -1
        case "float":
            return float(max(left // 2, 1))  # a whole number, but a float: refused all the same
    assert isinstance(spec, int)
    return spec


def _aimable(payment: Payment, operation: str) -> bool:
    if payment.status not in AIMED_AT[operation]:
        return False
    if operation == "capture":
        return payment.amount_capturable_minor > 0
    if operation == "refund":
        return payment.amount_refundable_minor > 0
    return True


class EngineMachine(RuleBasedStateMachine):
    def __init__(self, database: Database, engine_hooks: Hooks) -> None:
        super().__init__()
        self.wall = FakeWall()
        self.kasse = Kasse(database, hooks=engine_hooks, wall=self.wall)
        self.merchant_id = create_merchant(self.kasse, name="property").id
        self.payments: list[Payment] = []  # as of the end of the last step (refreshed by an invariant)

    # --- helpers ---------------------------------------------------------------------------------

    def _can(self, operation: str) -> bool:
        return any(_aimable(p, operation) for p in self.payments)

    def _aim(self, operation: str, index: int) -> Payment:
        pool = [p for p in self.payments if _aimable(p, operation)]
        return pool[index % len(pool)]

    def _attempt(self, legal: bool, use_case: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a use case: it must succeed exactly when the model says it is legal, and a refusal must
        leave no trace."""
        before = None if legal else dump(self.kasse, self.merchant_id)
        try:
            result = run(self.kasse, self.merchant_id, use_case, *args, **kwargs)
        except DomainError as exc:
            assert not legal, f"{use_case.__name__}{args} {kwargs} was refused: {exc.code}: {exc.message}"
            assert dump(self.kasse, self.merchant_id) == before, f"refused {use_case.__name__} left a trace"
            return None
        assert legal, f"{use_case.__name__}{args} {kwargs} was accepted but should have been refused"
        return result

    def _operate(self, operation: str, before: Payment, spec: int | str, final: bool) -> None:
        """Apply ``operation`` to the payment; check what an accepted one did."""
        pid = before.id
        match operation:
            case "authorize":
                if self._attempt(before.status is S.REQUIRES_ACTION, payments.authorize, pid) is None:
                    return
                after = load_payment(self.kasse, self.merchant_id, pid)
                if before.capture_method is CaptureMethod.MANUAL:
                    assert (after.status, after.amount_capturable_minor) == (S.AUTHORIZED, before.amount_minor)
                else:
                    assert (after.status, after.amount_captured_minor) == (S.PROCESSING, before.amount_minor)
            case "decline":
                if self._attempt(before.status is S.REQUIRES_ACTION, payments.decline, pid) is not None:
                    assert load_payment(self.kasse, self.merchant_id, pid).status is S.FAILED
            case "cancel":
                legal = before.status in (S.REQUIRES_ACTION, S.AUTHORIZED)
                if self._attempt(legal, payments.cancel, pid) is not None:
                    after = load_payment(self.kasse, self.merchant_id, pid)
                    assert (after.status, after.amount_capturable_minor) == (S.CANCELED, 0)
            case "capture":
                self._capture(before, spec, final)
            case "refund":
                self._refund(before, spec)

    def _capture(self, before: Payment, spec: int | str, final: bool) -> None:
        left = before.amount_capturable_minor
        amount = _amount(spec, left)
        legal = _aimable(before, "capture") and (amount is None or (type(amount) is int and 0 < amount <= left))
        cap = self._attempt(legal, captures.capture, before.id, amount_minor=amount, final=final)
        if cap is None:
            return
        taken = left if amount is None else amount
        after = load_payment(self.kasse, self.merchant_id, before.id)
        assert (cap.amount_minor, cap.status) == (taken, CaptureState.PENDING)
        assert after.amount_captured_minor == before.amount_captured_minor + taken
        assert after.amount_capturable_minor == (0 if final else left - taken)
        assert after.status is (S.PROCESSING if before.status is S.AUTHORIZED else before.status)

    def _refund(self, before: Payment, spec: int | str) -> None:
        left = before.amount_refundable_minor
        amount = _amount(spec, left)
        legal = _aimable(before, "refund") and (amount is None or (type(amount) is int and 0 < amount <= left))
        refund = self._attempt(legal, refunds.create_refund, before.id, amount_minor=amount)
        if refund is None:
            return
        after = load_payment(self.kasse, self.merchant_id, before.id)
        assert refund.amount_minor == (left if amount is None else amount)
        assert after.amount_refunded_minor == before.amount_refunded_minor + refund.amount_minor
        # Refunds wait while the money is in transit (deferred); then native ones are immediate, those of a
        # provider with a refund delay are reserved until their own timer fires.
        immediate = self.kasse.hooks.rules[before.origin].refund_delay_s == 0
        assert refund.status is (RefundState.SUCCEEDED if immediate and not refund.deferred else RefundState.PENDING)
        if before.status is S.PROCESSING:
            assert refund.deferred

    # --- rules -----------------------------------------------------------------------------------

    @initialize(specs=st.lists(PAYMENT, min_size=1, max_size=4))
    def some_payments(self, specs: list[tuple[Any, ...]]) -> None:
        """Start every example with a few payments, so no example is spent without any."""
        for spec in specs:
            self._create(*spec)

    @rule(spec=PAYMENT)
    def create(self, spec: tuple[Any, ...]) -> None:
        self._create(*spec)

    def _create(
        self, method: Method, amount: int, manual: bool, currency: str, approval: Approval,
        fails: bool, expires_in_s: int | None,
    ) -> None:  # fmt: skip
        legal = 1 <= amount <= MAX_AMOUNT and not (method is Method.SOFORT and manual) and currency in ("EUR", "CHF")
        cmd = payments.CreatePayment(
            origin="native", amount_minor=amount, currency=currency, method=method,
            country="CH" if currency == "CHF" else "DE",
            capture_method=CaptureMethod.MANUAL if manual else CaptureMethod.AUTOMATIC,
            scenario=Scenario(approval, Settlement.FAIL if fails else Settlement.SUCCEED), expires_in_s=expires_in_s,
        )  # fmt: skip
        created = self._attempt(legal, payments.create_payment, cmd)
        if created is None:
            return
        expected = {
            Approval.CUSTOMER: S.REQUIRES_ACTION,
            Approval.DECLINE: S.FAILED,
            Approval.APPROVE: S.AUTHORIZED if manual else S.PROCESSING,
        }[approval]
        assert load_payment(self.kasse, self.merchant_id, created.id).status is expected

    @precondition(lambda self: self._can("authorize"))
    @rule(index=INDEX)
    def authorize(self, index: int) -> None:
        self._operate("authorize", self._aim("authorize", index), "default", True)

    @precondition(lambda self: self._can("decline"))
    @rule(index=INDEX)
    def decline(self, index: int) -> None:
        self._operate("decline", self._aim("decline", index), "default", True)

    @precondition(lambda self: self._can("cancel"))
    @rule(index=INDEX)
    def cancel(self, index: int) -> None:
        self._operate("cancel", self._aim("cancel", index), "default", True)

    @precondition(lambda self: self._can("capture"))
    @rule(index=INDEX, spec=AMOUNT, final=st.booleans())
    def capture(self, index: int, spec: int | str, final: bool) -> None:
        self._operate("capture", self._aim("capture", index), spec, final)

    @precondition(lambda self: self._can("refund"))
    @rule(index=INDEX, spec=AMOUNT)
    def refund(self, index: int, spec: int | str) -> None:
        self._operate("refund", self._aim("refund", index), spec, True)

    @precondition(lambda self: self.payments)
    @rule(operation=st.sampled_from(OPERATIONS), index=INDEX, spec=AMOUNT, final=st.booleans())
    def attempt(self, operation: str, index: int, spec: int | str, final: bool) -> None:
        """Any operation on any payment: legal or not, the engine must agree with the table."""
        self._operate(operation, self.payments[index % len(self.payments)], spec, final)

    @rule(seconds=SECONDS)
    def advance(self, seconds: int) -> None:
        before = timers.read_clock(self.kasse, merchant_id=self.merchant_id).now
        reading = advance_clock(self.kasse, merchant_id=self.merchant_id, seconds=seconds)
        assert reading.now == before + timedelta(seconds=seconds)
        due = [f.due_at for f in reading.fired]
        assert due == sorted(due), "timers fired out of due order"
        assert all(before < d <= reading.now for d in due)
        assert len({f.timer_id for f in reading.fired}) == len(reading.fired)

    @rule(seconds=st.integers(min_value=1, max_value=3 * DAY_S))
    def wall_passes(self, seconds: int) -> None:
        """Real time passes and the background scheduler catches up (firing at the current time)."""
        self.wall.tick(seconds)
        timers.fire_due(self.kasse, merchant_id=self.merchant_id, at_due_time=False)

    @rule(freeze=st.booleans())
    def freeze_or_resume(self, freeze: bool) -> None:
        before = timers.read_clock(self.kasse, merchant_id=self.merchant_id).now
        reading = (timers.freeze_clock if freeze else timers.resume_clock)(self.kasse, merchant_id=self.merchant_id)
        assert (reading.now, reading.frozen) == (before, freeze)

    # --- invariants ------------------------------------------------------------------------------

    @invariant()
    def consistent(self) -> None:
        with self.kasse.read() as store:
            assert_consistent(store, self.merchant_id)
            assert_time_moves_forward(store, self.merchant_id)
            self.payments = sorted(
                store.list_payments(merchant_id=self.merchant_id, limit=10_000).items, key=lambda p: p.id
            )
        self._no_deadline_is_overdue()

    def _no_deadline_is_overdue(self) -> None:
        """Every timer due by now has fired, so nothing is left waiting past its deadline."""
        now = self.kasse.merchant_now(merchant_id=self.merchant_id)
        with self.kasse.read() as store:
            t = schema.timers
            overdue = select(func.count()).where(
                t.c.merchant_id == self.merchant_id, t.c.fired_at.is_(None), t.c.due_at <= now
            )
            assert store.conn.execute(overdue).scalar_one() == 0
            c = schema.captures
            late = select(func.count()).where(
                c.c.merchant_id == self.merchant_id, c.c.status == CaptureState.PENDING.value, c.c.settles_at <= now
            )
            assert store.conn.execute(late).scalar_one() == 0, "a capture is past its settlement"
        for p in self.payments:
            if p.status is S.REQUIRES_ACTION:
                assert p.expires_at > now
            if p.amount_capturable_minor:
                assert p.authorized_at is not None
                assert (
                    p.authorized_at + timedelta(seconds=self.kasse.hooks.rules[p.origin].unused_authorization_s) > now
                )


def _run(database: Database, examples: int, engine_hooks: Hooks | None = None) -> None:
    run_state_machine_as_test(
        lambda: EngineMachine(database, engine_hooks or hooks()),
        settings=settings(
            max_examples=examples,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )


def test_random_operations_keep_every_invariant(database: Database) -> None:
    """60 examples on SQLite, 15 on PostgreSQL (never skipped)."""
    _run(database, 60 if database.is_sqlite else 15)


def test_random_operations_with_a_slower_provider(sqlite_database: Database) -> None:
    """The same on rules like Stripe's: refunds reserved for an hour before they settle, unused
    authorizations canceled after 6 hours (the branches native rules never take)."""
    slower = dataclasses.replace(
        NATIVE_RULES, refund_delay_s=3600, unused_authorization_s=6 * 3600,
        unused_authorization_trigger=PaymentTrigger.CANCEL,
    )  # fmt: skip
    _run(sqlite_database, 20, dataclasses.replace(hooks(), rules={**hooks().rules, "native": slower}))
