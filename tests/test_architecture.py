"""Rules of STYLE.md that a machine can check: a pure domain, time only from the clock, exhaustive maps."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import kasse
from kasse.dialects.native import translate
from kasse.dialects.native.errors import error_response
from kasse.domain import errors
from kasse.domain.states import PaymentState, RefundState

SRC = Path(kasse.__file__).parent
DOMAIN = SRC / "domain"
FRAMEWORKS = {"starlette", "fastapi", "sqlalchemy", "httpx", "jinja2", "alembic", "psycopg", "uvicorn"}
# Reading the system time: only the clock module may (rule 2).
TIME_READS = re.compile(r"\b(datetime\.now|datetime\.utcnow|time\.time|date\.today)\(")


def _modules(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


def _imported_roots(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_the_domain_has_modules_to_check() -> None:
    names = {p.name for p in _modules(DOMAIN)}
    assert {"money.py", "ids.py", "clock.py", "states.py", "ledger.py", "models.py", "errors.py"} <= names


@pytest.mark.parametrize("path", _modules(DOMAIN), ids=lambda p: p.name)
def test_the_domain_is_pure(path: Path) -> None:
    forbidden = _imported_roots(path) & FRAMEWORKS
    assert not forbidden, f"{path.relative_to(SRC)} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", _modules(DOMAIN), ids=lambda p: p.name)
def test_the_domain_imports_nothing_from_outer_layers(path: Path) -> None:
    tree = ast.parse(path.read_text())
    outer = [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("kasse.")
        and not node.module.startswith("kasse.domain")
    ]
    assert not outer, f"{path.name} imports {outer}"


def test_the_purity_check_catches_a_framework_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlalchemy.orm\nfrom fastapi import FastAPI\nfrom . import sibling\n")
    assert _imported_roots(bad) & FRAMEWORKS == {"sqlalchemy", "fastapi"}


def test_time_comes_only_from_the_clock() -> None:
    offenders = []
    for path in _modules(SRC):
        if path == DOMAIN / "clock.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if TIME_READS.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize(
    "line", ["now = datetime.now(UTC)", "x = datetime.utcnow()", "t = time.time()", "d = date.today()"]
)
def test_the_time_check_catches_each_pattern(line: str) -> None:
    assert TIME_READS.search(line)
    assert not TIME_READS.search("created_at = tx.now")


@pytest.mark.parametrize("state", list(PaymentState), ids=str)
def test_every_payment_state_has_a_native_status(state: PaymentState) -> None:
    status = translate.payment_status(state)
    assert isinstance(status, str) and status


@pytest.mark.parametrize("state", list(RefundState), ids=str)
def test_every_refund_state_has_a_native_status(state: RefundState) -> None:
    status = translate.refund_status(state)
    assert isinstance(status, str) and status


def test_native_statuses_are_distinct() -> None:
    assert len({translate.payment_status(s) for s in PaymentState}) == len(PaymentState)
    assert len({translate.refund_status(s) for s in RefundState}) == len(RefundState)


def _domain_errors() -> list[type[errors.DomainError]]:
    """Every concrete error the domain raises (the abstract base is never raised on its own)."""
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.DomainError) and cls is not errors.DomainError and cls.__module__ == errors.__name__
    ]


@pytest.mark.parametrize("error", _domain_errors(), ids=lambda c: c.__name__)
def test_every_domain_error_has_an_http_status(error: type[errors.DomainError]) -> None:
    # The status follows the code (kasse.dialects.native.errors.STATUS_FOR, every code: test_dialect_maps).
    instance = errors.DomainError.__new__(error)
    errors.DomainError.__init__(instance, errors.ErrorCode.PARAMETER_INVALID, "Something went wrong")
    assert 400 <= error_response(instance).status_code < 600


def test_all_domain_errors_are_found() -> None:
    names = {cls.__name__ for cls in _domain_errors()}
    assert {"InvalidRequest", "NotFound", "InvalidTransition", "Conflict", "IdempotencyMismatch"} <= names
