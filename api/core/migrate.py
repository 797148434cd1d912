"""Alembic owns the schema. `upgrade` applies it; `check` refuses to serve an unmigrated database;
`schema_metadata` is what the models say the schema is (Alembic's `target_metadata`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import ForeignKeyConstraint, MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


class NotMigrated(RuntimeError):
    pass


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(engine: AsyncEngine, target: str = "head") -> None:
    def _run(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def current_revision(engine: AsyncEngine) -> str | None:
    def _current(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def check(engine: AsyncEngine) -> None:
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise NotMigrated(
            f"the database schema is at {current or 'nothing'} but this code needs {head}; "
            "run `phananh migrate` (or `make run`, which migrates the embedded database)"
        )


def merge_metadata(metadatas: list[MetaData]) -> MetaData:
    """Every table of the models in one MetaData, with their foreign keys across Bases.

    A capability's Base cannot hold a `ForeignKey` to a table of another Base (the ORM resolves each
    one when it flushes, and would not find the table), so such columns carry
    `info={"references": "table.column", "ondelete": …}`; here, with all the tables side by side,
    those become real foreign keys. The result is for comparing, not for mapping.
    """
    merged = MetaData()
    for metadata in metadatas:
        for table in metadata.tables.values():
            if table.name in merged.tables:
                raise RuntimeError(f"table {table.name!r} is declared by two models")
            table.to_metadata(merged)
    for table in merged.tables.values():
        for column in table.columns:
            target = column.info.get("references")
            if target:
                table.append_constraint(
                    ForeignKeyConstraint([column.name], [target], ondelete=column.info.get("ondelete"))
                )
    return merged


# Schemas that PostGIS's own extensions create (postgis_topology, postgis_tiger_geocoder): never ours.
POSTGIS_SCHEMAS = frozenset({"topology", "tiger", "tiger_data"})


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """What autogenerate compares: everything of ours, nothing of PostGIS's.

    Only tables found in the database with no model can be left out: geoalchemy2's helper recognises
    the spatial extensions' tables by name (`spatial_ref_sys`, `geometry_columns`…), and the tables of
    PostGIS's extra schemas go by schema (they are only seen when comparing with
    `include_schemas=True`). A table a model declares, and every column, index and constraint, is
    always compared.
    """
    from geoalchemy2 import alembic_helpers

    if type_ != "table" or not reflected or compare_to is not None:
        return True
    if getattr(obj, "schema", None) in POSTGIS_SCHEMAS:
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))


def comparison_options() -> dict[str, Any]:
    """Alembic's autogenerate settings, shared by migrations/env.py and the schema drift test."""
    from geoalchemy2 import alembic_helpers

    return {
        "compare_type": True,
        "compare_server_default": True,
        "include_object": include_object,
        "render_item": alembic_helpers.render_item,
    }
