"""The models and the migrations describe the same schema.

- `test_autogenerate_finds_nothing`: a fresh database migrated to head, compared with the models by
  Alembic's autogenerate (`compare_metadata`, with the settings of migrations/env.py): tables,
  columns, types, nullability, server defaults, indexes (expressions included), unique constraints
  and foreign keys. Any difference fails, listed the way `alembic revision --autogenerate` would
  act on it.
- `test_models_create_the_migrated_schema`: what autogenerate does not look at (the WHERE of partial
  indexes, index methods and operator classes, check constraints, identity columns): the models'
  `create_all` in a second database, and both databases' own rendering of every column, index and
  constraint (`format_type`, `pg_get_indexdef`, `pg_get_constraintdef`) compared.
- `test_drift_is_seen`: the comparison is not blind: a column missing from the models is reported.

PostGIS's own objects (`spatial_ref_sys`, the topology / tiger schemas) are left out by
`api.core.migrate.include_object`; nothing of ours is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from api.core import migrate
from api.core.db import make_engine
from api.schema import schema_metadata
from tests.support.database import create_database, create_migrated_database, drop_database, unique_name


@pytest.fixture(scope="module")
async def migrated_url(pg_admin_url: str) -> AsyncIterator[str]:
    """A database of its own, migrated to head (not the shared template: nothing may connect to it)."""
    name = unique_name("phananh_drift")
    url = await create_migrated_database(pg_admin_url, name)
    yield url
    await drop_database(pg_admin_url, name)


async def _run(url: str, fn: Any) -> Any:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def _differences(metadata: MetaData) -> Any:
    def compare(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn, opts={"target_metadata": metadata, **migrate.comparison_options()}
        )
        return list(compare_metadata(context, metadata))

    return compare


def _show(value: Any) -> str:
    """A default as SQL text (DefaultClause / TextClause), anything else as its repr."""
    value = getattr(value, "arg", value)
    return str(getattr(value, "text", None) or repr(value))


def _describe(diff: Any) -> str:
    """One line per difference: ('add_column', None, 'reports', Column(...)) and the like."""
    if isinstance(diff, list):  # modify_* come grouped per column
        return "; ".join(_describe(d) for d in diff)
    op, *rest = diff
    if op.startswith("modify_"):
        _schema, table, column, _kw, old, new = rest
        return f"{op} {table}.{column}: database {_show(old)}, models {_show(new)}"
    if op in ("add_column", "remove_column"):
        return f"{op} {rest[1]}.{rest[2].name}"
    obj = rest[0]
    table = getattr(obj, "table", None)
    name = getattr(obj, "name", None) or repr(obj)
    where = f"{table.name}." if table is not None and table.name != name else ""
    return f"{op} {where}{name}"


async def test_autogenerate_finds_nothing(migrated_url: str) -> None:
    diffs = await _run(migrated_url, _differences(schema_metadata()))
    assert not diffs, "models and migrations differ (db = migrations at head):\n" + "\n".join(
        _describe(d) for d in diffs
    )


async def test_drift_is_seen(migrated_url: str) -> None:
    """The database changed behind the models' back (in a transaction rolled back afterwards)."""

    def drift_and_compare(conn: Connection) -> list[str]:
        transaction = conn.begin()
        try:
            conn.execute(text("ALTER TABLE reports ADD COLUMN not_in_models text"))  # a model lost it
            conn.execute(text("ALTER TABLE media ALTER COLUMN reason SET NOT NULL"))
            conn.execute(text("ALTER TABLE push_outbox ALTER COLUMN status SET DEFAULT 'sent'"))
            conn.execute(text("DROP INDEX ix_reports_queue_due"))
            return sorted(_describe(d) for d in _differences(schema_metadata())(conn))
        finally:
            transaction.rollback()

    engine = make_engine(migrated_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(drift_and_compare)
    finally:
        await engine.dispose()
    assert diffs == [
        "add_index reports.ix_reports_queue_due",
        "modify_default push_outbox.status: database 'sent'::text, models 'pending'",
        "modify_nullable media.reason: database False, models True",
        "remove_column reports.not_in_models",
    ], diffs


# --- the databases' own rendering -----------------------------------------------------------------

# Alembic's bookkeeping table is not a model's (autogenerate leaves it out too).
NOT_MODELLED = ("alembic_version",)

CATALOG = """
WITH rel AS (
    SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> ALL(:skip)
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
)
SELECT 'column ' || rel.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid), '')
       || CASE a.attidentity WHEN 'd' THEN ' IDENTITY BY DEFAULT' WHEN 'a' THEN ' IDENTITY ALWAYS' ELSE '' END
FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = rel.oid AND ad.adnum = a.attnum
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid)
FROM rel JOIN pg_index i ON i.indrelid = rel.oid
UNION ALL
SELECT 'constraint ' || rel.relname || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
FROM rel JOIN pg_constraint co ON co.conrelid = rel.oid
"""


def _catalog(conn: Connection) -> set[str]:
    return set(conn.execute(text(CATALOG), {"skip": list(NOT_MODELLED)}).scalars())


@pytest.fixture(scope="module")
async def modelled_url(pg_admin_url: str) -> AsyncIterator[str]:
    """A database made by the models' `create_all` (with the extensions the migrations install)."""
    name = unique_name("phananh_models")
    url = await create_database(pg_admin_url, name)

    def create(conn: Connection) -> None:
        for ext in ("postgis", "pg_trgm"):
            conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {ext}"))
        schema_metadata().create_all(conn)

    await _run(url, create)
    yield url
    await drop_database(pg_admin_url, name)


async def test_models_create_the_migrated_schema(migrated_url: str, modelled_url: str) -> None:
    migrated = await _run(migrated_url, _catalog)
    modelled = await _run(modelled_url, _catalog)
    only_migrated, only_modelled = sorted(migrated - modelled), sorted(modelled - migrated)
    assert not (only_migrated or only_modelled), (
        "models and migrations differ\n  migrations only:\n    "
        + "\n    ".join(only_migrated)
        + "\n  models only:\n    "
        + "\n    ".join(only_modelled)
    )
    assert any(line.startswith("index ") and " WHERE " in line for line in migrated)  # not vacuous
