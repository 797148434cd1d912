"""Declarative base for the domain core's tables (reports, users, events…).

Capabilities with tables (`geo`, `media`, `push`) keep their own bases. The schema is made by the
Alembic migrations in `migrations/`; the models describe it exactly (indexes and constraints too), which
tests/test_schema_drift.py checks against a migrated database.
"""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
