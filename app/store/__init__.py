"""The SQL store: SQLAlchemy 2 async Core over SQLite (default) or Postgres."""

from app.store.engine import Store

__all__ = ["Store"]
