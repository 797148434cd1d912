"""Declarative base for the domain core's tables (reports, users, events…).

Capabilities (`geo`, `media`, `push`, `moderation`) keep their own bases; the schema itself is owned
by the Alembic migrations in `migrations/`, so the models only need to describe columns for queries.
"""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
