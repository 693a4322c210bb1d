"""``kasse``: serve, worker, migrate, check, merchants, clock, payments."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from dataclasses import replace
from typing import Annotated, Any

import typer

from kasse.cli import records
from kasse.cli.common import (
    DatabaseOpt,
    MerchantOpt,
    console,
    err,
    make_deliverer,
    open_kasse,
    port_busy,
    require_merchant,
    settings_from,
)  # fmt: skip
from kasse.domain.errors import DomainError
from kasse.engine import timers
from kasse.engine.check import check as check_invariants
from kasse.engine.merchants import SANDBOX, create_merchant

__all__ = ["app", "main"]


app = typer.Typer(
    help="Kasse: a stateful payment gateway and sandbox for Sofort and Klarna.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
merchant_app = typer.Typer(help="Merchants and their credentials.", no_args_is_help=True)
clock_app = typer.Typer(help="A merchant's clock.", no_args_is_help=True)
docs_app = typer.Typer(help="Generated documentation.", no_args_is_help=True)
app.add_typer(merchant_app, name="merchant")
app.add_typer(clock_app, name="clock")
app.add_typer(records.payments_app, name="payments")
app.add_typer(docs_app, name="docs")
app.add_typer(records.events_app, name="events")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    database: DatabaseOpt = None,
    workers: Annotated[bool, typer.Option(help="Run the timer and outbox workers in this process")] = True,
    processes: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="HTTP worker processes sharing the port (default KASSE_PROCESSES or 1)"),
    ] = None,
) -> None:
    """Start Kasse: every front door on one port, migrations applied, sandbox merchant ready."""
    import uvicorn

    from kasse.cli.banner import print_banner
    from kasse.web.app import create_app

    settings = settings_from(database, host=host, port=port, processes=processes)
    settings = replace(settings, run_workers=workers)
    if port_busy(settings.host, settings.port):
        err.print(
            f"Port {settings.port} on {settings.host} is in use (another kasse serve?): "
            "stop it, or choose another with --port or KASSE_PORT.",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(1)
    kasse = open_kasse(settings, create=True)
    print_banner(console, settings)
    # An open event stream (`kasse listen`) would otherwise hold shutdown for up to an hour; listeners
    # reconnect with Last-Event-ID, so cutting them off after a few seconds loses nothing.
    common: dict[str, Any] = {
        "host": settings.host, "port": settings.port, "log_level": "info", "timeout_graceful_shutdown": 3,
    }  # fmt: skip
    if settings.processes == 1:
        uvicorn.run(create_app(settings, kasse=kasse), **common)
        return
    # Several processes: each builds its app from the environment, so hand them these settings
    # (the admin token too, or each would mint its own). Migrations and the sandbox merchant are done.
    kasse.db.dispose()
    os.environ.update(
        KASSE_DATABASE_URL=settings.database_url, KASSE_HOST=settings.host, KASSE_PORT=str(settings.port),
        KASSE_ADMIN_TOKEN=settings.admin_token, KASSE_RUN_WORKERS="1" if settings.run_workers else "0",
        KASSE_SANDBOX_MERCHANT="0", KASSE_PROCESSES="1",
    )  # fmt: skip
    if settings.public_url:
        os.environ["KASSE_PUBLIC_URL"] = settings.public_url
    uvicorn.run("kasse.web.app:create_app", factory=True, workers=settings.processes, **common)


@app.command()
def worker(
    database: DatabaseOpt = None,
    interval: Annotated[float, typer.Option(help="Seconds between scheduler passes")] = 0.5,
    lease_seconds: Annotated[
        float, typer.Option(min=0.5, help="How long a claimed delivery is reserved before another worker may send it")
    ] = 60.0,
) -> None:
    """Run the timer and outbox workers alone, for setups with several processes on PostgreSQL."""
    from kasse.web.workers import DeliveryWorker, Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = settings_from(database)
    kasse = open_kasse(settings, create=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per delivery is noise
    deliverer = make_deliverer(kasse, settings, lease_s=lease_seconds)
    loops = [Scheduler(kasse, interval_s=interval), DeliveryWorker(deliverer, interval_s=interval)]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for loop in loops:
        loop.start()
    console.print(f"[bold]kasse worker[/] running on {kasse.db.engine.url.render_as_string(hide_password=True)}")
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    for loop in loops:
        loop.stop()
    deliverer.close()


@app.command()
def migrate(database: DatabaseOpt = None) -> None:
    """Apply database migrations (serve and worker also do this on start)."""
    kasse = open_kasse(settings_from(database), create=True)
    console.print(f"[green]✓[/] schema up to date on {kasse.db.engine.url.render_as_string(hide_password=True)}")


@app.command()
def check(
    database: DatabaseOpt = None,
    merchant: Annotated[str | None, typer.Option("--merchant", "-m", help="Only this merchant")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Verify every invariant of the ledger, the objects, their histories, the outbox and the timers
    against the database; exit 1 and list what breaks them (docs/operations.md)."""
    from kasse.cli.records import print_check

    kasse = open_kasse(settings_from(database))
    if merchant is not None:
        require_merchant(kasse, merchant)
    report = check_invariants(kasse, merchant)
    print_check(report, as_json=as_json)
    if not report.ok:
        raise typer.Exit(1)


@merchant_app.command("create")
def merchant_create(
    name: Annotated[str, typer.Option("--name", help="The merchant's name")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the credentials as JSON")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Create a merchant and print every credential of every dialect (shown once)."""
    if not 0 < len(name) <= 200:
        err.print("[red]--name must be 1 to 200 characters[/]")
        raise typer.Exit(2)
    creds = create_merchant(open_kasse(settings_from(database)), name=name).as_dict()
    if as_json:
        typer.echo(json.dumps(creds, indent=2))
        return
    # Plain lines, never cut: every value must survive a copy from the terminal.
    typer.echo(f"Merchant {creds['id']} ({creds['name']}): credentials, shown once")
    for key, value in creds.items():
        if key in ("id", "name"):
            continue
        if isinstance(value, dict):
            for sub, item in value.items():
                typer.echo(f"  {key}.{sub}: {item}")
        else:
            typer.echo(f"  {key}: {value}")


@clock_app.command("advance")
def clock_advance(
    duration: Annotated[str, typer.Argument(help="How far: 90s, 15m, 6h, 14d, 1d12h")],
    merchant: MerchantOpt = SANDBOX.id,
    database: DatabaseOpt = None,
) -> None:
    """Move a merchant's clock forward; every timer that falls due fires before this returns."""
    try:
        seconds = timers.parse_duration(duration)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    from kasse.delivery.clock import advance

    settings = settings_from(database)
    kasse = open_kasse(settings)
    require_merchant(kasse, merchant)
    deliverer = make_deliverer(kasse, settings)
    try:
        reading, attempts = advance(deliverer, merchant_id=merchant, seconds=seconds)
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from None
    finally:
        deliverer.close()
    console.print(
        f"clock of [bold]{merchant}[/] now {reading.now.isoformat()}; {len(reading.fired)} timer(s) fired, "
        f"{attempts} webhook attempt(s)",
        soft_wrap=True,
    )
    for fired in reading.fired:
        did = ", ".join(fired.events) if fired.acted else "nothing to do (its subject had moved on)"
        console.print(f"  {fired.due_at.isoformat()}  {fired.kind!s:<22} {fired.subject_id}  → {did}", soft_wrap=True)


@clock_app.command("show")
def clock_show(merchant: MerchantOpt = SANDBOX.id, database: DatabaseOpt = None) -> None:
    """Show a merchant's clock."""
    kasse = open_kasse(settings_from(database))
    require_merchant(kasse, merchant)
    try:
        reading = timers.read_clock(kasse, merchant_id=merchant)
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from None
    mode = "frozen" if reading.frozen else f"live, offset {reading.offset_s:.0f}s"
    console.print(f"{reading.now.isoformat()} ({mode})")


@app.command()
def receive(
    secret: Annotated[str, typer.Option(help="The endpoint's signing secret (whsec_…)")],
    port: Annotated[int, typer.Option(help="Port to listen on")] = 9000,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    fail_first: Annotated[int, typer.Option(min=0, help="Answer 500 to this many requests first")] = 0,
) -> None:
    """A webhook receiver for trying things out: verifies signatures, prints events, can fail on purpose."""
    from kasse.cli.receive import serve_receiver

    serve_receiver(host=host, port=port, secret=secret, fail_first=fail_first, console=console)


@docs_app.command("lifecycle")
def docs_lifecycle() -> None:
    """Print docs/lifecycle.md, generated from the state tables."""
    from kasse.cli.lifecycle import render

    typer.echo(render(), nl=False)


@app.command()
# Size rule exception: one parameter per command-line option.
def listen(  # noqa: PLR0913
    forward_to: Annotated[str, typer.Option("--forward-to", help="Local URL that receives each event as a POST")],
    events: Annotated[str | None, typer.Option(help="Comma-separated, e.g. payment.*,refund.succeeded")] = None,
    api_key: Annotated[str, typer.Option(envvar="KASSE_API_KEY", help="Merchant secret key")] = SANDBOX.secret_key,
    base_url: Annotated[str, typer.Option(envvar="KASSE_URL", help="Kasse's URL")] = "http://127.0.0.1:8000",
    retries: Annotated[int, typer.Option(min=0, max=10, help="Retries of a failed forward")] = 3,
    backoff: Annotated[float, typer.Option(min=0, help="Seconds before the first retry; doubles")] = 1.0,
    max_events: Annotated[int | None, typer.Option(min=1, help="Stop after this many events")] = None,
    timeout: Annotated[float | None, typer.Option(min=0, help="Stop after this many seconds")] = None,
    secret: Annotated[str | None, typer.Option(hidden=True, help="A fixed signing secret (tests)")] = None,
) -> None:
    """Stream this merchant's events live and forward each, signed, to a local URL (like stripe listen)."""
    from kasse.cli.listen import ListenOptions
    from kasse.cli.listen import listen as run_listen

    opts = ListenOptions(
        forward_to, api_key, base_url, events=events, retries=retries, backoff_s=backoff,
        max_events=max_events, timeout_s=timeout, secret=secret,
    )  # fmt: skip
    raise typer.Exit(run_listen(opts, console))


def main() -> None:
    app()
