"""The hot path's writes through the driver: a unit's inserts (and its deferred updates) sent together.

SQLAlchemy builds and compiles each statement once per dialect and column set; its own bind processors
convert the values (UTC datetimes, JSON, booleans: exactly what ``Connection.execute`` would send), and
the driver gets them directly, skipping SQLAlchemy's per-statement execution (~40 µs each). On
PostgreSQL every batch of a unit leaves in one psycopg pipeline: one round trip for the lot, with
prepared statements (psycopg prepares what ``executemany`` sends in a pipeline). On SQLite each batch
is one ``executemany`` of the sqlite3 cursor.

A driver error is raised as SQLAlchemy would raise it (``sqlalchemy.exc.IntegrityError`` for a taken
unique key), so callers see no difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase

__all__ = ["Batch", "fetch", "joinable", "send"]

# How many pipelines were sent (a round trip each) and queries run through the driver: for measurements.
PIPELINES = [0]
FETCHES = [0]


@dataclass(slots=True)
class Batch:
    """Rows for one statement; ``rowcount``: what the batch must change in all, else ``conflict()``."""

    statement: UpdateBase
    rows: list[dict[str, Any]]
    rowcount: int | None = None
    conflict: Callable[[], Exception] | None = field(default=None)


def joinable(pending: list[Batch], statement: UpdateBase, keys: Any) -> Batch | None:
    """The waiting batch of ``statement`` that new rows may join, if moving them before the batches
    queued after it changes nothing: none of those writes the same table, or inserts into a table the
    rows refer to (a foreign key). So a unit's attempts and delivery updates, alternating one by one,
    leave as two batches; a delivery never overtakes the insert of its event."""
    table: Any = statement.table
    parents = {fk.column.table for fk in table.foreign_keys}
    for batch in reversed(pending):
        if batch.statement is statement and batch.rowcount is None and batch.rows[0].keys() == keys:
            return batch
        other: Any = batch.statement.table
        if other is table or (other in parents and batch.statement.is_insert):
            return None
    return None


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    names: tuple[str, ...]  # the parameters, in the order a positional driver takes them
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    positional: bool


_PLANS: dict[tuple[int, int, tuple[str, ...]], tuple[UpdateBase, Dialect, _Plan]] = {}


def _plan(statement: UpdateBase, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
    cache_key = (id(statement), id(dialect), keys)
    held = _PLANS.get(cache_key)
    if held is not None and held[0] is statement and held[1] is dialect:
        return held[2]
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.bind_names.values())
    missing = set(names) - set(keys)
    if missing:  # a bind not named after a given value (a default, a renamed bind): not for this path
        raise ValueError(f"statement needs parameters {sorted(missing)} its rows do not give")
    processors = tuple((name, proc) for name, proc in compiled._bind_processors.items() if name in names)
    plan = _Plan(compiled.string, names, processors, bool(compiled.positional))
    _PLANS[cache_key] = (statement, dialect, plan)
    return plan


def _parameters(plan: _Plan, rows: Sequence[dict[str, Any]]) -> list[Any]:
    procs = dict(plan.processors)
    pairs = [(name, procs.get(name)) for name in plan.names]
    if plan.positional:
        return [tuple(row[n] if p is None else p(row[n]) for n, p in pairs) for row in rows]
    return [{n: row[n] if p is None else p(row[n]) for n, p in pairs} for row in rows]


def send(conn: Connection, batches: list[Batch]) -> None:
    """Send ``batches`` in order, in the connection's transaction: on PostgreSQL in one pipeline."""
    batches = [b for b in batches if b.rows]
    if not batches:
        return
    dialect = conn.dialect
    driver: Any = conn.connection.driver_connection
    prepared = [(b, _plan(b.statement, dialect, tuple(b.rows[0])), b.rows) for b in batches]
    checked: list[tuple[Batch, Any]] = []
    current: tuple[str, Any] = ("", None)
    try:
        if dialect.name == "postgresql":
            with driver.pipeline():
                shared = driver.cursor()  # one for every batch whose row count nobody checks
                for batch, plan, rows in prepared:
                    current = (plan.sql, rows)
                    cursor = shared if batch.rowcount is None else driver.cursor()
                    cursor.executemany(plan.sql, _parameters(plan, rows))
                    if batch.rowcount is not None:
                        checked.append((batch, cursor))
            PIPELINES[0] += 1
        else:
            for batch, plan, rows in prepared:
                current = (plan.sql, rows)
                cursor = driver.cursor()
                try:
                    cursor.executemany(plan.sql, _parameters(plan, rows))
                    if batch.rowcount is not None and cursor.rowcount != batch.rowcount and batch.conflict:
                        raise batch.conflict()
                finally:
                    cursor.close()
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            current[0], current[1], error, dialect.loaded_dbapi.Error, dialect=dialect, ismulti=True
        ) from error
    for batch, cursor in checked:
        if cursor.rowcount != batch.rowcount and batch.conflict:
            raise batch.conflict()


@dataclass(frozen=True, slots=True)
class _Query:
    compiled: Any
    keys: tuple[str, ...]
    results: tuple[Callable[[Any], Any] | None, ...]


_QUERIES: dict[tuple[int, int], tuple[Any, Dialect, _Query]] = {}


def fetch(conn: Connection, statement: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    """A query's rows through the driver, bound and converted by SQLAlchemy's column types (what
    ``Connection.execute(...).mappings()`` would give, without its per-statement work)."""
    dialect = conn.dialect
    held = _QUERIES.get((id(statement), id(dialect)))
    if held is None or held[0] is not statement or held[1] is not dialect:
        compiled: Any = statement.compile(dialect=dialect)
        columns = compiled._result_columns
        query = _Query(
            compiled,
            tuple(c.keyname for c in columns),
            tuple(c.type._cached_result_processor(dialect, None) for c in columns),
        )
        _QUERIES[(id(statement), id(dialect))] = (statement, dialect, query)
    else:
        query = held[2]
    compiled = query.compiled
    values = compiled.construct_params(params)
    for name, proc in compiled._bind_processors.items():
        if name in values:
            values[name] = proc(values[name])
    driver: Any = conn.connection.driver_connection
    FETCHES[0] += 1
    try:
        cursor = driver.cursor()
        positional = compiled.positional
        cursor.execute(compiled.string, tuple(values[n] for n in compiled.positiontup) if positional else values)
        rows = cursor.fetchall()
        cursor.close()
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            compiled.string, values, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    pairs = list(zip(query.keys, query.results, strict=True))
    return [{k: v if p is None else p(v) for (k, p), v in zip(pairs, row, strict=True)} for row in rows]
