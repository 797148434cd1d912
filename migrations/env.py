"""Alembic environment: runs migrations on the connection api.core.migrate hands over (async engine)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from api.core.db import make_engine
from api.core.migrate import comparison_options
from api.schema import schema_metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=schema_metadata(),  # the models; tests/core/test_schema_drift.py keeps them in step
        transaction_per_migration=False,
        **comparison_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_url(url: str) -> None:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    async with engine.begin() as conn:
        await conn.run_sync(run)
    await engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported")
_connection = context.config.attributes.get("connection")
if _connection is not None:
    run(_connection)
else:
    _url = context.config.get_main_option("sqlalchemy.url")
    if not _url:
        raise RuntimeError("no database URL given to alembic; use `phananh migrate`")
    asyncio.run(_run_with_url(_url))
