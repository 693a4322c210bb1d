"""The package layers, checked on the source's syntax tree (every import, including those inside
functions): domain ← codecs, storage ← engine ← delivery, edge, pages ← dialects ← web ← cli. A dialect imports no
other dialect and nothing of ``web``; time is read only through ``kasse.domain.clock``, and the engine
never sleeps."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import kasse

SRC = Path(kasse.__file__).parent

# Package → the packages it may import from (besides itself and the standard library).
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "codecs": {"domain"},
    "storage": {"domain"},
    "engine": {"domain", "storage", "codecs"},
    "delivery": {"domain", "storage", "engine", "codecs"},
    "edge": {"domain", "storage", "engine", "codecs", "delivery", "config"},
    "pages": {"domain", "storage", "engine", "codecs", "edge"},
    "dialects": {"domain", "storage", "engine", "codecs", "delivery", "edge", "pages"},
    "web": {"domain", "storage", "engine", "codecs", "delivery", "edge", "pages", "dialects", "config"},
    "cli": {"domain", "storage", "engine", "codecs", "delivery", "edge", "pages", "dialects", "web", "config"},
    "config": set(),
    "__init__": set(),
}
# Shared by every dialect; the registry is the one module that knows them all.
DIALECT_SHARED = {"_base"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module) of every import in ``path``, relative ones resolved."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield node.lineno, module
            yield from ((node.lineno, f"{module}.{alias.name}") for alias in node.names)


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_violations(path: Path) -> list[str]:
    own = _module_name(path)
    layer = _layer(own)
    found = []
    for line, module in _imports(path):
        if not module.startswith("kasse.") or module.count(".") < 1:
            continue
        target = _layer(module)
        if target in (layer, "__init__") or target not in ALLOWED:
            continue
        if target not in ALLOWED.get(layer, set()):
            found.append(f"{path.relative_to(SRC)}:{line}: {layer} imports {module}")
    return found


def dialect_violations(path: Path) -> list[str]:
    """A dialect imports its own modules and the shared contract, never another dialect."""
    own = _module_name(path).split(".")
    if own[:2] != ["kasse", "dialects"] or len(own) < 3 or own[2] in ("registry", *DIALECT_SHARED):
        return []
    found = []
    for line, module in _imports(path):
        parts = module.split(".")
        if parts[:2] == ["kasse", "dialects"] and len(parts) >= 3 and parts[2] not in (own[2], *DIALECT_SHARED):
            found.append(f"{path.relative_to(SRC)}:{line}: dialect {own[2]} imports {module}")
    return found


# Reading the system clock or sleeping: names of ``time``/``datetime``/``date`` that do it.
CLOCK_READS = {("time", "time"), ("time", "time_ns"), ("datetime", "now"), ("datetime", "utcnow"),
               ("datetime", "today"), ("date", "today")}  # fmt: skip
SLEEPS = {("time", "sleep")}


def clock_violations(path: Path, forbidden: set[tuple[str, str]]) -> list[str]:
    """Calls of ``forbidden`` (module, name) pairs however spelled: ``time.time()``, ``import time as t;
    t.time()``, ``from time import time as now; now()``, ``datetime.datetime.now()``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    modules: dict[str, str] = {}  # local name → module or class it stands for
    direct: dict[str, tuple[str, str]] = {}  # local name → (module, function)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ("time", "datetime"):
                    modules[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module in ("time", "datetime"):
            for alias in node.names:
                local = alias.asname or alias.name
                if node.module == "datetime" and alias.name in ("datetime", "date"):
                    modules[local] = alias.name
                elif (node.module, alias.name) in forbidden:
                    direct[local] = (node.module, alias.name)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func, hit = node.func, None
        if isinstance(func, ast.Name) and func.id in direct:
            hit = direct[func.id]
        elif isinstance(func, ast.Attribute):
            owner = func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if isinstance(owner, ast.Attribute) and getattr(owner.value, "id", None) in modules:
                name = owner.attr  # datetime.datetime.now()
            elif isinstance(owner, ast.Name):
                name = modules.get(owner.id)
            if name is not None and (name, func.attr) in forbidden:
                hit = (name, func.attr)
        if hit is not None:
            found.append(f"{path.relative_to(SRC)}:{node.lineno}: {hit[0]}.{hit[1]}()")
    return found


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_layer_imports_only_the_layers_below_it() -> None:
    assert [v for path in _sources() for v in layer_violations(path)] == []


def test_no_dialect_imports_another() -> None:
    assert [v for path in _sources() for v in dialect_violations(path)] == []


def test_time_is_read_only_through_the_clock() -> None:
    clock = SRC / "domain" / "clock.py"
    assert [v for path in _sources() if path != clock for v in clock_violations(path, CLOCK_READS)] == []


def test_the_engine_never_sleeps() -> None:
    engine = sorted((SRC / "engine").rglob("*.py"))
    assert [v for path in engine for v in clock_violations(path, SLEEPS)] == []


def test_no_dynamic_imports() -> None:
    offenders = [str(p.relative_to(SRC)) for p in _sources() if "__import__" in p.read_text()]
    assert offenders == []


# --- the checks themselves catch what they should ----------------------------------------------------


def _write(tmp_path: Path, dotted: str, text: str) -> Path:
    """A module at ``kasse/<dotted path>.py`` under ``tmp_path``, checked as if it were in SRC."""
    path = SRC.joinpath(*dotted.split(".")).with_suffix(".py")
    fake = tmp_path / path.relative_to(SRC.parent)
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text(text)
    return fake


@pytest.mark.parametrize(
    "source",
    [
        "import time\ntime.time()",
        "import time as t\nt.time()",
        "from time import time\ntime()",
        "from time import time as now\nnow()",
        "from datetime import datetime\ndatetime.now()",
        "import datetime\ndatetime.datetime.now()",
        "from datetime import datetime as dt\ndt.utcnow()",
        "from datetime import date\ndate.today()",
    ],
)
def test_the_clock_check_catches_every_spelling(tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path / "kasse")
    path = _write(tmp_path, "engine.bad", source)
    assert clock_violations(path, CLOCK_READS)
    assert not clock_violations(_write(tmp_path, "engine.good", "tx.now\nclock.now(wall)"), CLOCK_READS)


def test_the_sleep_check_catches_a_sleep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path / "kasse")
    assert clock_violations(_write(tmp_path, "engine.bad", "from time import sleep\nsleep(1)"), SLEEPS)


@pytest.mark.parametrize(
    ("module", "source", "bad"),
    [
        ("dialects.stripe.routes", "from kasse.web.auth import x", True),
        ("dialects.stripe.routes", "def f():\n    from kasse.web import app", True),
        ("engine.payments", "from kasse.delivery.worker import Deliverer", True),
        ("domain.money", "from kasse.storage import schema", True),
        ("web.app", "from kasse.dialects.registry import DIALECTS", False),
        ("dialects.stripe.routes", "from kasse.engine import payments", False),
    ],
)
def test_the_layer_check_catches_an_upward_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, source: str, bad: bool
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path / "kasse")
    assert bool(layer_violations(_write(tmp_path, module, source))) is bad


@pytest.mark.parametrize(
    ("module", "source", "bad"),
    [
        ("dialects.stripe.routes", "from kasse.dialects.native.redirects import x", True),
        ("dialects.stripe.routes", "from kasse.dialects.stripe import translate", False),
        ("dialects.stripe.routes", "from kasse.dialects._base import Dialect", False),
        ("dialects.registry", "from kasse.dialects.stripe.dialect import DIALECT", False),
    ],
)
def test_the_dialect_check_catches_a_cross_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, source: str, bad: bool
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path / "kasse")
    assert bool(dialect_violations(_write(tmp_path, module, source))) is bad
