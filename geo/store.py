"""Writing areas: one upsert for a node, and the subdivided lookup parts of a leaf."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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


_UPSERT = text(
    """
    INSERT INTO areas (code, name, name_ascii, level, depth, parent_code, lineage, is_leaf, geom, source, updated_at)
    SELECT :code, :name, :name_ascii, :level,
           coalesce(p.depth + 1, 0), :parent_code,
           coalesce(p.lineage, ARRAY[]::text[]) || ARRAY[:code],
           true,
           CASE WHEN CAST(:geojson AS text) IS NULL THEN NULL
                ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(
                       ST_SetSRID(ST_GeomFromGeoJSON(CAST(:geojson AS text)), 4326)), 3)) END,
           :source, now()
    FROM (SELECT 1) one LEFT JOIN areas p ON p.code = :parent_code
    ON CONFLICT (code) DO UPDATE SET
        name = EXCLUDED.name, name_ascii = EXCLUDED.name_ascii, level = EXCLUDED.level,
        depth = EXCLUDED.depth, parent_code = EXCLUDED.parent_code, lineage = EXCLUDED.lineage,
        geom = coalesce(EXCLUDED.geom, areas.geom), source = coalesce(EXCLUDED.source, areas.source),
        updated_at = now()
    RETURNING (xmax = 0) AS inserted
    """
)


async def upsert_area(conn: AsyncConnection, area: AreaIn) -> bool:
    """Insert or update one node (its parent must exist already); True when it was new.

    Invalid geometry is repaired with ST_MakeValid; the parent stops being a leaf.
    """
    inserted = (
        await conn.execute(
            _UPSERT,
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
            text("UPDATE areas SET is_leaf = false WHERE code = :p AND is_leaf"), {"p": area.parent_code}
        )
    return bool(inserted)


async def rebuild_parts(conn: AsyncConnection, code: str) -> int:
    """Replace the lookup parts of one area from its boundary; returns how many parts it has."""
    await conn.execute(text("DELETE FROM area_parts WHERE area_code = :c"), {"c": code})
    result = await conn.execute(
        text(
            """
            INSERT INTO area_parts (area_code, geom)
            SELECT a.code, (ST_Dump(ST_Subdivide(a.geom, :n))).geom
            FROM areas a WHERE a.code = :c AND a.geom IS NOT NULL
            """
        ),
        {"c": code, "n": SUBDIVIDE_VERTICES},
    )
    return result.rowcount or 0
