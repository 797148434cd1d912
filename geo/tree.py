"""Reading the area tree: children of a node (or the roots), one node with its boundary as GeoJSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo.lookup import AreaRef, lineage


@dataclass(frozen=True, slots=True)
class AreaNode:
    code: str
    name: str
    name_ascii: str
    level: str
    parent_code: str | None
    is_leaf: bool


@dataclass(frozen=True, slots=True)
class AreaDetail:
    area: AreaNode
    ancestors: list[AreaRef]  # root first, without the area itself
    children: int
    geometry: dict[str, Any] | None  # GeoJSON MultiPolygon when asked for


_COLUMNS = "code, name, name_ascii, level, parent_code, is_leaf"


def _node(r: Any) -> AreaNode:
    return AreaNode(r.code, r.name, r.name_ascii, r.level, r.parent_code, bool(r.is_leaf))


async def exists(conn: AsyncConnection, code: str) -> bool:
    return (await conn.execute(text("SELECT 1 FROM areas WHERE code = :c"), {"c": code})).first() is not None


async def children(
    conn: AsyncConnection, parent: str | None, *, limit: int, after: str | None = None
) -> tuple[list[AreaNode], int]:
    """The children of `parent` (the roots when None) by code, from the first after `after`; and how
    many there are in all."""
    where = "parent_code = :p" if parent is not None else "parent_code IS NULL"
    keyset = "" if after is None else " AND code > :after"
    rows = (
        await conn.execute(
            text(
                f"SELECT {_COLUMNS}, (SELECT count(*) FROM areas WHERE {where}) AS total "
                f"FROM areas WHERE {where}{keyset} ORDER BY code LIMIT :limit"
            ),
            {"p": parent, "limit": limit, "after": after},
        )
    ).all()
    if rows:
        total = int(rows[0].total)
    else:
        total = int(
            (
                await conn.execute(text(f"SELECT count(*) FROM areas WHERE {where}"), {"p": parent})
            ).scalar_one()
        )
    return [_node(r) for r in rows], total


async def detail(conn: AsyncConnection, code: str, *, geometry: bool = False) -> AreaDetail | None:
    geo_sql = "ST_AsGeoJSON(geom, 6)" if geometry else "NULL"
    row = (
        await conn.execute(
            text(
                f"SELECT {_COLUMNS}, {geo_sql} AS geojson, "
                "(SELECT count(*) FROM areas c WHERE c.parent_code = a.code) AS n_children "
                "FROM areas a WHERE code = :c"
            ),
            {"c": code},
        )
    ).first()
    if row is None:
        return None
    chain = await lineage(conn, code)
    return AreaDetail(
        area=_node(row),
        ancestors=chain[:-1],
        children=int(row.n_children),
        geometry=None if row.geojson is None else msgspec.json.decode(row.geojson),
    )
