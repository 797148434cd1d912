"""Writing areas: one upsert for a node, and the subdivided lookup parts of a leaf."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncConnection

from geo import sql
from geo.models import Area, AreaPart

SUBDIVIDE_VERTICES = 128


def ascii_name(name: str) -> str:
    """'Phường Bến Thành' → 'Phuong Ben Thanh' (đ/Đ have no decomposition, so map them by hand)."""
    name = name.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", name) if unicodedata.category(c) != "Mn")


@dataclass(frozen=True, slots=True)
class AreaIn:
    code: str
    name: str
    level: str
    parent_code: str | None = None
    geojson: str | None = None  # a (Multi)Polygon geometry as GeoJSON text, WGS 84
    source: str | None = None
    name_ascii: str | None = None


async def upsert_area(conn: AsyncConnection, area: AreaIn) -> bool:
    """Insert or update one node (its parent must exist already); True when it was new.

    Invalid geometry is repaired with ST_MakeValid; the parent stops being a leaf.
    """
    inserted = (
        await conn.execute(
            sql.UPSERT_AREA,
            {
                "code": area.code,
                "name": area.name,
                "name_ascii": area.name_ascii or ascii_name(area.name),
                "level": area.level,
                "parent_code": area.parent_code,
                "geojson": area.geojson,
                "source": area.source,
            },
        )
    ).scalar_one()
    if area.parent_code:
        await conn.execute(
            update(Area).where(Area.code == area.parent_code, Area.is_leaf).values(is_leaf=False)
        )
    return bool(inserted)


async def rebuild_parts(conn: AsyncConnection, code: str) -> int:
    """Replace the lookup parts of one area from its boundary; returns how many parts it has."""
    await conn.execute(delete(AreaPart).where(AreaPart.area_code == code))
    result = await conn.execute(sql.SUBDIVIDE_AREA, {"code": code, "n": SUBDIVIDE_VERTICES})
    return result.rowcount or 0
