"""Declarative base for the domain core's tables (reports, users, events…).

Capabilities with tables (`geo`, `media`, `push`) keep their own bases. The schema is made by the
Alembic migrations in `migrations/`; the models describe it exactly (indexes and constraints too), which
tests/core/test_schema_drift.py checks against a migrated database.
"""

from typing import Any

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


def references(column: str, ondelete: str | None = None) -> dict[str, Any]:
    """`info` for a foreign key to a table of another metadata (geo's `areas`, our `users` from a
    capability's table): the ORM cannot hold such a key, `api.schema.schema_metadata` adds it."""
    return {"references": column} if ondelete is None else {"references": column, "ondelete": ondelete}
