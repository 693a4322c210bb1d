"""Settings, read once from the environment (``KASSE_*``) and passed down explicitly."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["Settings", "database_url", "default_database_path", "default_processes", "sqlite_path"]


def default_database_path() -> Path:
    """Where the server and the CLI keep the embedded database unless told otherwise: one place, so a
    ``kasse`` command run from any directory finds the data of the running ``kasse serve``."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "kasse" / "kasse.db"


def database_url(explicit: str | None = None) -> str:
    """The one rule both the server and the CLI use: ``--database``, else ``KASSE_DATABASE_URL``, else
    SQLite at :func:`default_database_path`."""
    return explicit or os.environ.get("KASSE_DATABASE_URL") or f"sqlite:///{default_database_path()}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    if not url.startswith("sqlite"):
        return None
    rest = url.split(":///", 1)[1] if ":///" in url else ""
    rest = rest.split("?", 1)[0]
    return None if rest in ("", ":memory:") else Path(rest)


def default_processes() -> int:
    """Every core this process may run on (its CPU affinity, so a container's limit counts), at most 64."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 64))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_auto(name: str) -> bool | None:
    """A switch that may be left to Kasse: unset or ``auto`` is None."""
    value = os.environ.get(name, "auto").strip().lower()
    return None if value == "auto" else value in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=database_url)
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None  # the base URL shown to browsers, if not http://host:port
    admin_token: str = field(default_factory=lambda: "adm_" + secrets.token_urlsafe(24))
    admin_token_generated: bool = True
    sqlite_synchronous: str = "NORMAL"
    # Concurrent units of work committed together (docs/performance.md); None: on SQLite only, where it pays.
    group_commit: bool | None = None
    group_commit_max: int = 64  # units in one group commit at most
    run_workers: bool = True
    processes: int = field(default_factory=default_processes)  # HTTP worker processes of `kasse serve`
    keep_alive_s: int = 75  # an idle HTTP/1.1 connection is closed after this (uvicorn's timeout_keep_alive)
    scheduler_interval_s: float = 0.5
    advance_sync_s: float = 30.0  # a clock advance still running then answers 202 (docs/webhooks.md)
    max_body_bytes: int = 1_048_576
    create_sandbox_merchant: bool = True
    # Where notifications may go (docs/security.md): "any" (the local sandbox), "public", or an
    # allow-list of hosts, addresses and networks; link-local and metadata addresses never.
    webhook_targets: str = "any"
    delivery_concurrency: int = 8  # webhook requests in flight per endpoint, per delivery worker

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        token = env.get("KASSE_ADMIN_TOKEN")
        base = cls(
            database_url=database_url(),
            host=env.get("KASSE_HOST", "127.0.0.1"),
            port=int(env.get("KASSE_PORT", "8000")),
            public_url=env.get("KASSE_PUBLIC_URL") or None,
            sqlite_synchronous=env.get("KASSE_SQLITE_SYNCHRONOUS", "NORMAL"),
            group_commit=_env_auto("KASSE_GROUP_COMMIT"),
            group_commit_max=int(env.get("KASSE_GROUP_COMMIT_MAX", "64")),
            run_workers=_env_bool("KASSE_RUN_WORKERS", True),
            processes=int(env.get("KASSE_PROCESSES") or default_processes()),
            keep_alive_s=int(env.get("KASSE_KEEP_ALIVE_S", "75")),
            scheduler_interval_s=float(env.get("KASSE_SCHEDULER_INTERVAL_S", "0.5")),
            advance_sync_s=float(env.get("KASSE_ADVANCE_SYNC_S", "30")),
            max_body_bytes=int(env.get("KASSE_MAX_BODY_BYTES", "1048576")),
            create_sandbox_merchant=_env_bool("KASSE_SANDBOX_MERCHANT", True),
            webhook_targets=env.get("KASSE_WEBHOOK_TARGETS", "any"),
            delivery_concurrency=int(env.get("KASSE_DELIVERY_CONCURRENCY", "8")),
        )
        if token:
            base = replace(base, admin_token=token, admin_token_generated=False)
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(base, **clean)  # type: ignore[arg-type]
