"""What the ``kasse`` commands share: the consoles, the database and merchant options, opening the engine
on the one database the server uses (never creating an empty one by accident), the port check."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from kasse.config import Settings, sqlite_path
from kasse.engine.merchants import ensure_sandbox_merchant
from kasse.engine.unit import Kasse
from kasse.storage.db import Database

if TYPE_CHECKING:
    from kasse.delivery.worker import Deliverer

__all__ = [
    "DatabaseOpt",
    "MerchantOpt",
    "console",
    "err",
    "make_deliverer",
    "open_kasse",
    "port_busy",
    "require_merchant",
    "settings_from",
]  # fmt: skip

console = Console()
err = Console(stderr=True)

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Database URL (default: KASSE_DATABASE_URL, else SQLite in $XDG_DATA_HOME/kasse/kasse.db, "
        "the same file kasse serve uses)",
        show_default=False,
    ),
]
MerchantOpt = Annotated[str, typer.Option("--merchant", "-m", help="Merchant id")]


def settings_from(database: str | None = None, **overrides: object) -> Settings:
    return Settings.from_env(database_url=database, **overrides)


def open_kasse(settings: Settings, *, create: bool = False) -> Kasse:
    """The engine on the configured database. Only ``serve``, ``worker`` and ``migrate`` (``create``) may
    make a new database; every other command refuses to run on one that is not there, instead of
    silently working on an empty one the server never sees."""
    from kasse.dialects import registry

    path = sqlite_path(settings.database_url)
    if path is not None:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            err.print(
                f"No Kasse database at {path}: start the server first (kasse serve, or make serve), "
                "or point --database / KASSE_DATABASE_URL at its database.",
                soft_wrap=True,
                highlight=False,
            )
            raise typer.Exit(1)
    database = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    kasse = Kasse(
        database, hooks=registry.hooks(), group_commit=settings.group_commit, group_commit_max=settings.group_commit_max
    )
    kasse.db.migrate()
    if settings.create_sandbox_merchant:
        ensure_sandbox_merchant(kasse)
    return kasse


def require_merchant(kasse: Kasse, merchant_id: str) -> None:
    with kasse.read() as store:
        if store.get_merchant(merchant_id=merchant_id) is None:
            err.print(f"No such merchant: {merchant_id} (--merchant)", soft_wrap=True, highlight=False)
            raise typer.Exit(2)


def port_busy(host: str, port: int) -> bool:
    """Whether another process listens on ``host:port`` (checked before anything is printed)."""

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def make_deliverer(kasse: Kasse, settings: Settings, **options: Any) -> Deliverer:
    from kasse.delivery.worker import Deliverer
    from kasse.dialects import registry
    from kasse.domain.targets import TargetPolicy
    from kasse.engine.targets import TargetGuard

    guard = TargetGuard(TargetPolicy.parse(settings.webhook_targets))
    options.setdefault("concurrency", settings.delivery_concurrency)
    return Deliverer(kasse, outbound=registry.outbound(), base_url=settings.base_url, targets=guard, **options)
