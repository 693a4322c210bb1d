"""``kasse check``: clean on every state the engine leaves behind, and each rule catches what breaks it.

The rest of the suite runs these rules after its flows (``tests.helpers.check``); here each rule is
shown to fail: a row is changed behind the engine's back and the report names the rule and the object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from kasse.cli.main import app
from kasse.dialects.registry import hooks
from kasse.domain.models import CaptureMethod, Method, TimerKind
from kasse.engine import payments, refunds, webhooks
from kasse.engine.check import Report, check
from kasse.engine.merchants import SANDBOX, ensure_sandbox_merchant
from kasse.engine.targets import CheckedUrl
from kasse.engine.unit import Kasse
from kasse.storage import schema as s
from kasse.storage.db import Database
from tests.helpers import DAY_S, advance_clock, new_payment, run

runner = CliRunner()


def _every_state(kasse: Kasse, merchant_id: str) -> dict[str, str]:
    """Payments in every state the checker must accept, with an endpoint receiving their events."""
    hook = CheckedUrl("http://127.0.0.1:9/hook")
    run(kasse, merchant_id, lambda tx: webhooks.create_endpoint(
        tx, url=hook, enabled_events=["*"], description=None, dialect="native"))  # fmt: skip
    advance_clock(kasse, merchant_id=merchant_id, seconds=1)  # events after the endpoint's creation
    settled = new_payment(kasse, merchant_id)
    run(kasse, merchant_id, payments.authorize, settled.id)
    advance_clock(kasse, merchant_id=merchant_id, seconds=3 * DAY_S)
    run(kasse, merchant_id, refunds.create_refund, settled.id, amount_minor=300)
    waiting = new_payment(kasse, merchant_id)
    in_transit = new_payment(kasse, merchant_id)
    run(kasse, merchant_id, payments.authorize, in_transit.id)
    held = new_payment(kasse, merchant_id, method=Method.KLARNA_PAY_LATER, capture_method=CaptureMethod.MANUAL)
    run(kasse, merchant_id, payments.authorize, held.id)
    canceled = new_payment(kasse, merchant_id)
    run(kasse, merchant_id, payments.cancel, canceled.id)
    return {"waiting": waiting.id, "settled": settled.id, "in_transit": in_transit.id, "held": held.id}


def _rules(report: Report) -> set[tuple[str, str]]:
    return {(v.rule, v.subject) for v in report.violations}


def test_every_state_the_engine_leaves_is_clean(kasse: Kasse, merchant_id: str) -> None:
    _every_state(kasse, merchant_id)
    report = check(kasse)
    assert report.ok, report.violations
    assert report.merchants == 1
    assert report.counted["payments"] == 5 and report.counted["deliveries"] == report.counted["events"] > 10


def _first(kasse: Kasse, table: Any, *where: Any) -> Any:
    with kasse.read() as store:
        return store.conn.execute(select(table).where(*where).order_by(*table.primary_key)).mappings().first()


def _write(kasse: Kasse, statement: Any) -> None:
    with kasse.db.transaction() as conn:
        assert conn.execute(statement).rowcount >= 1


Corruption = Callable[[Kasse, dict[str, str]], tuple[str, str]]  # → (rule, subject) it must be reported as


def _leg_dropped(kasse: Kasse, ids: dict[str, str]) -> tuple[str, str]:
    leg = _first(kasse, s.ledger_legs)
    _write(kasse, delete(s.ledger_legs).where(s.ledger_legs.c.transfer_id == leg["transfer_id"],
                                              s.ledger_legs.c.leg == leg["leg"]))  # fmt: skip
    return "ledger.transfer_balances", leg["transfer_id"]


def _captured_total_edited(kasse: Kasse, ids: dict[str, str]) -> tuple[str, str]:
    _write(kasse, update(s.payments).where(s.payments.c.id == ids["in_transit"]).values(amount_captured_minor=999))
    return "objects.totals", ids["in_transit"]


def _expiry_timer_lost(kasse: Kasse, ids: dict[str, str]) -> tuple[str, str]:
    _write(kasse, delete(s.timers).where(s.timers.c.subject_id == ids["waiting"]))
    return "timers.kept", ids["waiting"]


def _settlement_timer_lost(kasse: Kasse, ids: dict[str, str]) -> tuple[str, str]:
    capture = _first(kasse, s.captures, s.captures.c.payment_id == ids["in_transit"])
    _write(kasse, delete(s.timers).where(s.timers.c.subject_id == capture["id"]))
    return "timers.kept", capture["id"]


def _delivery_lost(kasse: Kasse, ids: dict[str, str]) -> tuple[str, str]:
    event = _first(kasse, s.events, s.events.c.object_id == ids["held"], s.events.c.type == "payment.authorized")
    _write(kasse, delete(s.deliveries).where(s.deliveries.c.event_id == event["id"]))
    return "outbox.fan_out", event["id"]


def _status_without_history(kasse: Kasse, ids: dict[str, str]) -> tuple[str, str]:
    _write(kasse, update(s.payments).where(s.payments.c.id == ids["waiting"]).values(status="canceled"))
    return "history.payment", ids["waiting"]


def _hold_edited(kasse: Kasse, ids: dict[str, str]) -> tuple[str, str]:
    _write(kasse, update(s.payments).where(s.payments.c.id == ids["held"]).values(amount_capturable_minor=1))
    return "objects.hold", ids["held"]


def _balance_leg_edited(kasse: Kasse, ids: dict[str, str]) -> tuple[str, str]:
    # Both legs of the refund's transfer grow: it still balances, the balances no longer agree.
    transfer = _first(kasse, s.ledger_transfers, s.ledger_transfers.c.code == "refund")
    legs = s.ledger_legs
    _write(kasse, update(legs).where(legs.c.transfer_id == transfer["id"]).values(amount_minor=legs.c.amount_minor * 2))
    return "ledger.balances", "EUR"


@pytest.mark.parametrize(
    "corrupt",
    [_leg_dropped, _captured_total_edited, _expiry_timer_lost, _settlement_timer_lost, _delivery_lost,
     _status_without_history, _hold_edited, _balance_leg_edited],
)  # fmt: skip
def test_each_rule_reports_what_breaks_it(kasse: Kasse, merchant_id: str, corrupt: Corruption) -> None:
    ids = _every_state(kasse, merchant_id)
    assert check(kasse).ok
    rule, subject = corrupt(kasse, ids)
    report = check(kasse)
    assert (rule, subject) in _rules(report), report.violations
    assert all(v.merchant_id == merchant_id and v.message for v in report.violations)


def test_a_capture_settled_behind_the_engine_s_back_breaks_its_history_and_the_balances(
    kasse: Kasse, merchant_id: str
) -> None:
    ids = _every_state(kasse, merchant_id)
    capture = _first(kasse, s.captures, s.captures.c.payment_id == ids["in_transit"])
    _write(kasse, update(s.captures).where(s.captures.c.id == capture["id"]).values(status="succeeded"))
    found = _rules(check(kasse))
    assert ("history.capture", capture["id"]) in found and ("ledger.balances", "EUR") in found


def test_kasse_check_exits_0_when_clean_and_1_with_a_readable_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'check.db'}"
    kasse = Kasse(Database(url), hooks=hooks())
    kasse.db.migrate()
    ensure_sandbox_merchant(kasse)
    payment = new_payment(kasse, SANDBOX.id, method=Method.SOFORT)
    run(kasse, SANDBOX.id, payments.authorize, payment.id)
    clean = runner.invoke(app, ["check", "--database", url], env={"COLUMNS": "200"})
    assert clean.exit_code == 0, clean.output
    assert "every invariant holds" in clean.output and "1 payments" in clean.output

    capture = _first(kasse, s.captures)
    _write(kasse, delete(s.timers).where(s.timers.c.subject_id == capture["id"]))
    broken = runner.invoke(app, ["check", "--database", url], env={"COLUMNS": "200"})
    assert broken.exit_code == 1
    assert "timers.kept" in broken.output and capture["id"] in broken.output and "1 violation" in broken.output
    as_json = runner.invoke(app, ["check", "--json", "--merchant", SANDBOX.id, "--database", url])
    assert as_json.exit_code == 1
    doc = json.loads(as_json.output)
    assert doc["ok"] is False and doc["violations"] == [
        {"merchant": SANDBOX.id, "rule": "timers.kept", "subject": capture["id"],
         "message": f"is in transit but has no unfired {TimerKind.CAPTURE_SETTLEMENT} timer"}
    ]  # fmt: skip
    unknown = runner.invoke(app, ["check", "--merchant", "mer_nobody", "--database", url])
    assert unknown.exit_code == 2 and "No such merchant" in unknown.output
