"""Alembic environment: migrations run on the connection Kasse hands over (see ``Database.migrate``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from kasse.storage.schema import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # `alembic` run by hand, e.g. `alembic revision --autogenerate`
    url = config.get_main_option("sqlalchemy.url") or "sqlite:///kasse.db"
    with create_engine(url).connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
