"""What ``kasse serve`` prints on start: every front door and the sandbox credentials."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.engine import make_url

from kasse import __version__
from kasse.config import Settings
from kasse.engine.merchants import SANDBOX
from kasse.storage.db import normalize_url

__all__ = ["print_banner"]


def print_banner(console: Console, settings: Settings) -> None:
    base = settings.base_url
    doors = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
    doors.add_column("front door")
    doors.add_column("base URL")
    for name, path in (
        ("native API", "/api/v1"),
        ("  OpenAPI / docs", "/api/openapi.json  /api/docs"),
        ("hosted pages", "/pay/…"),
        ("sandbox control", "/_sandbox"),
        ("admin", "/_admin"),
        ("health, metrics", "/healthz  /metrics"),
    ):
        doors.add_row(name, " ".join(f"{base}{p}" if p.startswith("/") else p for p in path.split("  ")))
    creds = SANDBOX.as_dict()
    cred_table = Table(show_header=False, box=None, padding=(0, 2))
    cred_table.add_column(no_wrap=True)
    cred_table.add_column(overflow="fold")
    cred_table.add_row("merchant", f"{creds['id']} ({creds['name']})")
    cred_table.add_row("secret key", creds["secret_key"])
    cred_table.add_row("publishable key", creds["publishable_key"])
    cred_table.add_row("MultiSafepay api_key", creds["multisafepay"]["api_key"])
    sc = creds["secuconnect"]
    cred_table.add_row("secuconnect", f"client_id={sc['client_id']} client_secret={sc['client_secret']}")
    po = creds["payone"]
    cred_table.add_row("PAYONE", f"mid={po['mid']} aid={po['aid']} portalid={po['portalid']} key={po['key']}")
    kl = creds["klarna"]
    cred_table.add_row("Klarna", f"partner_account_id={kl['partner_account_id']} api_key={kl['api_key']}")
    admin = settings.admin_token + (
        "  (generated; set KASSE_ADMIN_TOKEN to fix it)" if settings.admin_token_generated else ""
    )
    cred_table.add_row("admin token", admin)
    db = make_url(normalize_url(settings.database_url)).render_as_string(hide_password=True)
    procs = f", {settings.processes} processes" if settings.processes > 1 else ""
    console.print(Panel.fit(doors, title=f"Kasse {__version__} — {base}", subtitle=f"database: {db}{procs}"))
    console.print(Panel.fit(cred_table, title="sandbox credentials"))
