"""Reading the area tree: children of a node (or the roots), one node with its boundary as GeoJSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import func, null, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from geo.lookup import AreaRef, lineage
from geo.models import Area


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


_COLUMNS = (Area.code, Area.name, Area.name_ascii, Area.level, Area.parent_code, Area.is_leaf)


def _node(r: Any) -> AreaNode:
    return AreaNode(r.code, r.name, r.name_ascii, r.level, r.parent_code, bool(r.is_leaf))


async def exists(conn: AsyncConnection, code: str) -> bool:
    return (await conn.execute(select(Area.code).where(Area.code == code))).first() is not None


async def children(
    conn: AsyncConnection, parent: str | None, *, limit: int, after: str | None = None
) -> tuple[list[AreaNode], int]:
    """The children of `parent` (the roots when None) by code, from the first after `after`; and how
    many there are in all."""
    under = Area.parent_code == parent if parent is not None else Area.parent_code.is_(None)
    sibling = aliased(Area, name="s")
    same_parent = sibling.parent_code == parent if parent is not None else sibling.parent_code.is_(None)
    in_all = select(func.count()).select_from(sibling).where(same_parent).scalar_subquery()
    keyset = [] if after is None else [Area.code > after]
    rows = (
        await conn.execute(
            select(*_COLUMNS, in_all.label("total")).where(under, *keyset).order_by(Area.code).limit(limit)
        )
    ).all()
    if rows:
        total = int(rows[0].total)
    else:
        total = int((await conn.execute(select(func.count()).select_from(Area).where(under))).scalar_one())
    return [_node(r) for r in rows], total


async def detail(conn: AsyncConnection, code: str, *, geometry: bool = False) -> AreaDetail | None:
    child = aliased(Area, name="c")
    n_children = select(func.count()).where(child.parent_code == Area.code).scalar_subquery()
    geojson = func.ST_AsGeoJSON(Area.geom, 6) if geometry else null()
    row = (
        await conn.execute(
            select(*_COLUMNS, geojson.label("geojson"), n_children.label("n_children")).where(
                Area.code == code
            )
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
