"""Storage: the domain mapped to SQL (SQLAlchemy 2 Core, Alembic), for SQLite and PostgreSQL."""
