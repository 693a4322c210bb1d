"""What ``kasse serve`` prints on start: where to go, every mounted front door with the sandbox
merchant's credentials for it, and the admin token. Made from the dialect registry, so it names only
what this server answers. Plain lines, never wrapped or cut: every URL and secret must survive a copy
from any terminal width."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console
from sqlalchemy.engine import make_url

from kasse import __version__
from kasse.config import Settings
from kasse.dialects._base import Dialect
from kasse.engine.merchants import SANDBOX
from kasse.storage.db import normalize_url

__all__ = ["banner_lines", "print_banner"]


def banner_lines(settings: Settings, dialects: Mapping[str, Dialect]) -> list[str]:
    base = settings.base_url
    db = make_url(normalize_url(settings.database_url)).render_as_string(hide_password=True)
    procs = f", {settings.processes} process{'es' if settings.processes > 1 else ''}"
    creds = SANDBOX.as_dict()
    lines = [
        f"Kasse {__version__} ready on {base}  (database: {db}{procs})",
        "",
        f"  home page        {base}/",
        f"  dashboard        {base}/dashboard   (sign in with the secret key {creds['secret_key']})",
        f"  API reference    {base}/api/docs",
        f"  sandbox control  {base}/_sandbox   (clock, approve/decline, reset)",
        "",
        f"Front doors, with the sandbox merchant {creds['id']}'s credentials:",
    ]
    for dialect in dialects.values():
        door = dialect.front_door
        if door is None:
            continue
        lines.append(f"  {door.title:<42} {base}{door.path}")
        lines += [f"      {label}: {value}" for label, value in door.values(creds)]
    admin = settings.admin_token + (
        "   (generated; set KASSE_ADMIN_TOKEN to fix it)" if settings.admin_token_generated else ""
    )
    lines += ["", f"  admin token      {admin}", f"  health, metrics  {base}/healthz  {base}/metrics", ""]
    return lines


def print_banner(console: Console, settings: Settings, dialects: Mapping[str, Dialect] | None = None) -> None:
    if dialects is None:
        from kasse.dialects.registry import DIALECTS

        dialects = DIALECTS
    for line in banner_lines(settings, dialects):
        console.print(line, soft_wrap=True, highlight=False, markup=False)
