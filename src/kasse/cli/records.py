"""``kasse payments`` and ``kasse events``: what a merchant's data looks like, never cut (ids fold onto
the next line rather than end in an ellipsis), amounts as money."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from kasse.cli.common import (
    DatabaseOpt,
    MerchantOpt,
    console,
    err,
    make_deliverer,
    open_kasse,
    require_merchant,
    settings_from,
)  # fmt: skip
from kasse.domain.events import is_known_type_filter
from kasse.domain.money import format_money
from kasse.domain.states import PaymentState
from kasse.engine.check import Report
from kasse.engine.merchants import SANDBOX

__all__ = ["events_app", "payments_app"]

payments_app = typer.Typer(help="Payments.", no_args_is_help=True)
events_app = typer.Typer(help="Events and their webhook deliveries.", no_args_is_help=True)


@payments_app.command("list")
def payments_list(
    merchant: MerchantOpt = SANDBOX.id,
    status: Annotated[str | None, typer.Option(help="Only this status")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    database: DatabaseOpt = None,
) -> None:
    """The newest payments of a merchant."""
    if status is not None and status not in {state.value for state in PaymentState}:
        err.print(
            f"Unknown --status {status!r}: one of {', '.join(state.value for state in PaymentState)}",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(2)
    kasse = open_kasse(settings_from(database))
    require_merchant(kasse, merchant)
    with kasse.read() as store:
        page = store.list_payments(merchant_id=merchant, limit=limit, status=status)
    if as_json:
        rows = [
            {"id": p.id, "status": p.status.value, "amount": p.amount_minor, "currency": p.currency,
             "method": p.method.value, "reference": p.reference, "created_at": p.created_at.isoformat()}
            for p in page.items
        ]  # fmt: skip
        typer.echo(json.dumps(rows, indent=2))
        return
    table = _table(f"Payments of {merchant}", "id", "status", "amount", "method", "created")
    for p in page.items:
        table.add_row(
            p.id, p.status.value, format_money(p.amount_minor, p.currency), p.method.value, _when(p.created_at)
        )
    console.print(table)


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _table(title: str, *columns: str) -> Table:
    """Ids and secrets are never cut: a column folds onto the next line rather than end in an ellipsis."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in ("id", "amount"))
    return table


@events_app.command("list")
def events_list(
    merchant: MerchantOpt = SANDBOX.id,
    type: Annotated[str | None, typer.Option("--type", help="e.g. payment.succeeded or payment.*")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    database: DatabaseOpt = None,
) -> None:
    """The newest events, with how their deliveries went."""
    from kasse.dialects.registry import DIALECTS

    if type is not None and not is_known_type_filter(type, DIALECTS):
        err.print(f"Unknown --type {type!r}: e.g. payment.succeeded or payment.*", soft_wrap=True, highlight=False)
        raise typer.Exit(2)
    kasse = open_kasse(settings_from(database))
    require_merchant(kasse, merchant)
    table = _table(f"Events of {merchant}", "id", "type", "object", "created", "deliveries")
    with kasse.read() as store:
        page = store.list_events(merchant_id=merchant, limit=limit, type=type)
        for e in page.items:
            deliveries = store.deliveries_of_event(merchant_id=merchant, event_id=e.id)
            summary = ", ".join(f"{d.status.value}({d.attempts})" for d in deliveries) or "-"
            table.add_row(e.id, e.type, e.object_id, _when(e.created_at), summary)
    console.print(table)


@events_app.command("resend")
def events_resend(
    event_id: Annotated[str, typer.Argument(help="The event to send again")],
    merchant: MerchantOpt = SANDBOX.id,
    database: DatabaseOpt = None,
) -> None:
    """Send an event again to every endpoint it was delivered to, now (recorded as manual attempts)."""

    settings = settings_from(database)
    kasse = open_kasse(settings)
    require_merchant(kasse, merchant)
    with kasse.read() as store:
        if store.get_event(merchant_id=merchant, event_id=event_id) is None:
            err.print(f"[red]No such event: {event_id}[/]")
            raise typer.Exit(1)
        deliveries = store.deliveries_of_event(merchant_id=merchant, event_id=event_id)
    if not deliveries:
        err.print("[yellow]This event has no deliveries: no endpoint wanted it[/]")
        raise typer.Exit(1)
    deliverer = make_deliverer(kasse, settings)
    try:
        for delivery in deliveries:
            outcome = deliverer.attempt(delivery, trigger="manual")
            shown = outcome.status if outcome.status is not None else outcome.error
            colour = "green" if outcome.ok else "red"
            console.print(f"{delivery.id} → [{colour}]{shown}[/] in {outcome.latency_ms} ms")
    finally:
        deliverer.close()


def print_check(report: Report, *, as_json: bool) -> None:
    """``kasse check``'s report: what was read, and each broken invariant (rule, object, what is wrong)."""
    read = ", ".join(f"{n:,} {name}" for name, n in report.counted.items())
    if as_json:
        typer.echo(json.dumps({
            "ok": report.ok, "merchants": report.merchants, "counted": dict(report.counted),
            "violations": [{"merchant": v.merchant_id, "rule": v.rule, "subject": v.subject, "message": v.message}
                           for v in report.violations],
        }, indent=2))  # fmt: skip
        return
    if report.ok:
        console.print(f"[green]✓[/] every invariant holds: {report.merchants} merchant(s); read {read}")
        return
    table = Table("merchant", "rule", "object", "what is wrong", title=f"{len(report.violations)} violation(s)")
    for column in table.columns:
        column.overflow = "fold"  # ids are copied from here: never cut
    for v in report.violations:
        table.add_row(v.merchant_id, v.rule, v.subject, v.message)
    console.print(table)
    err.print(f"[red]✗[/] {len(report.violations)} violation(s) in {report.merchants} merchant(s); read {read}")
