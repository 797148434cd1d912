"""geo's hand-written SQL: the PostGIS statements, each a named constant with `:name` parameters.

The rest of geo reads and writes through SQLAlchemy expressions (geo.models). A statement that a hot
path also runs on a raw asyncpg connection is an `Sql`: one text, compiled once into asyncpg's `$n`
form. `Sql` is geo's own twin of `api.core.db.Sql` (a capability does not import api); reports embed
`ASSIGN.source` in their submission statement, where the same names are the same parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy import TextClause, text
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

_DIALECT = asyncpg_dialect.dialect()


class Sql:
    """A statement with `:name` parameters: `text` for SQLAlchemy connections; `fetch`/`fetchrow` on
    asyncpg ones, with `sql` (asyncpg's `$1, $2…`, compiled once by SQLAlchemy's own compiler)."""

    __slots__ = ("names", "source", "sql", "text")

    def __init__(self, source: str) -> None:
        self.source = source
        self.text: TextClause = text(source)
        compiled = self.text.compile(dialect=_DIALECT)
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple([params[name] for name in self.names])

    async def fetch(self, conn: asyncpg.Connection, params: Mapping[str, Any]) -> list[asyncpg.Record]:
        return await conn.fetch(self.sql, *self.args(params))

    async def fetchrow(self, conn: asyncpg.Connection, params: Mapping[str, Any]) -> asyncpg.Record | None:
        return await conn.fetchrow(self.sql, *self.args(params))


# The ward responsible for a point, in one round trip: the covering wards (lowest code wins, flagged
# when 2+ or another ward lies within near_m); only when none covers the point does the second branch
# (nearest ward within snap_m) run — the outer LIMIT 1 stops the Append after the first branch's row.
# Parameters: `geo.assign_params`; the row: `geo.assignment_from`.
ASSIGN = Sql(
    """
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(CAST(:lng AS float8), CAST(:lat AS float8)), 4326) AS g),
hit AS (
    SELECT min(h.area_code) AS code, count(*)::int AS n
    FROM (SELECT DISTINCT p.area_code FROM area_parts p, pt WHERE ST_Intersects(p.geom, pt.g)) h
),
near AS (
    SELECT p.area_code, ST_Distance(p.geom::geography, pt.g::geography) AS d
    FROM area_parts p, pt WHERE p.geom && ST_Expand(pt.g, CAST(:snap_deg AS float8))
)
SELECT * FROM (
    SELECT h.code, h.n, false AS snapped, NULL::float8 AS d,
           h.n > 1 OR EXISTS (
               SELECT 1 FROM area_parts q, pt
               WHERE q.area_code <> h.code AND q.geom && ST_Expand(pt.g, CAST(:near_deg AS float8))
                 AND ST_DWithin(q.geom::geography, pt.g::geography, CAST(:near_m AS float8))) AS near_boundary
    FROM hit h WHERE h.code IS NOT NULL
    UNION ALL
    (SELECT n.area_code, 0, true, n.d,
            (SELECT count(DISTINCT n2.area_code) FROM near n2 WHERE n2.d <= n.d + CAST(:near_m AS float8)) > 1
     FROM near n WHERE n.d <= CAST(:snap_m AS float8) ORDER BY n.d, n.area_code LIMIT 1)
) found LIMIT 1
"""
)

# An area and its ancestors, root first.
LINEAGE = Sql(
    """
SELECT x.code, x.name, x.level FROM areas a JOIN areas x ON x.code = ANY(a.lineage)
WHERE a.code = :code ORDER BY x.depth
"""
)

# Insert or update one node under its (existing) parent; the boundary is repaired and kept polygonal.
UPSERT_AREA = text(
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

# The lookup parts of one area, from its boundary (:n vertices at most per part).
SUBDIVIDE_AREA = text(
    """
    INSERT INTO area_parts (area_code, geom)
    SELECT a.code, (ST_Dump(ST_Subdivide(a.geom, :n))).geom
    FROM areas a WHERE a.code = :code AND a.geom IS NOT NULL
    """
)

# --- a bulk import (geo.importer), in the caller's transaction, through temporary tables ---------------

IMPORT_DROP = text("DROP TABLE IF EXISTS area_stage, area_geoms, area_changed")

IMPORT_STAGE = text(
    """
    CREATE TEMP TABLE area_stage (
        code text PRIMARY KEY, name text NOT NULL, name_ascii text NOT NULL,
        parent_code text, wkb bytea
    ) ON COMMIT DROP
    """
)

# Parse once; flag and repair invalid shapes; keep only the polygonal part as a MultiPolygon.
IMPORT_PARSE = text(
    """
    CREATE TEMP TABLE area_geoms ON COMMIT DROP AS
    SELECT code, valid,
           CASE WHEN valid THEN ST_Multi(g) ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(g), 3)) END AS geom
    FROM (
        SELECT code, g, ST_IsValid(g) AS valid
        FROM (SELECT code, ST_GeomFromWKB(wkb, 4326) AS g FROM area_stage WHERE wkb IS NOT NULL) parsed
    ) checked
    """
)

IMPORT_VALIDITY = text("SELECT code, valid FROM area_geoms")

IMPORT_PARENTS = text(
    """
    INSERT INTO areas AS a (code, name, name_ascii, level, depth, parent_code, lineage, is_leaf, source)
    SELECT code, name, name_ascii, :level, 0, NULL, ARRAY[code], false, :source
    FROM unnest(CAST(:codes AS text[]), CAST(:names AS text[]), CAST(:asciis AS text[]))
         AS p(code, name, name_ascii)
    ON CONFLICT (code) DO UPDATE SET
        name = EXCLUDED.name, name_ascii = EXCLUDED.name_ascii, is_leaf = false, updated_at = now()
    RETURNING (xmax = 0) AS inserted
    """
)

# Areas whose boundary differs from what is stored (new ones included): only these are re-subdivided.
IMPORT_CHANGED = text(
    """
    CREATE TEMP TABLE area_changed ON COMMIT DROP AS
    SELECT g.code FROM area_geoms g LEFT JOIN areas a ON a.code = g.code
    WHERE a.geom IS NULL OR NOT (ST_AsEWKB(a.geom) = ST_AsEWKB(g.geom))
       OR NOT EXISTS (SELECT 1 FROM area_parts p WHERE p.area_code = g.code)
    """
)

IMPORT_LEAVES = text(
    """
    INSERT INTO areas AS a (code, name, name_ascii, level, depth, parent_code, lineage, is_leaf, geom, source)
    SELECT s.code, s.name, s.name_ascii, :level, coalesce(p.depth + 1, 0), s.parent_code,
           coalesce(p.lineage, ARRAY[]::text[]) || s.code, true, g.geom, :source
    FROM area_stage s
    LEFT JOIN area_geoms g ON g.code = s.code
    LEFT JOIN areas p ON p.code = s.parent_code
    ON CONFLICT (code) DO UPDATE SET
        name = EXCLUDED.name, name_ascii = EXCLUDED.name_ascii, level = EXCLUDED.level,
        depth = EXCLUDED.depth, parent_code = EXCLUDED.parent_code, lineage = EXCLUDED.lineage,
        geom = coalesce(EXCLUDED.geom, a.geom), source = EXCLUDED.source, updated_at = now()
    RETURNING (xmax = 0) AS inserted
    """
)

IMPORT_DROP_CHANGED_PARTS = text("DELETE FROM area_parts WHERE area_code IN (SELECT code FROM area_changed)")

IMPORT_CHANGED_COUNT = text("SELECT count(*) FROM area_changed")

IMPORT_PARTS = text(
    """
    INSERT INTO area_parts (area_code, geom)
    SELECT a.code, (ST_Dump(ST_Subdivide(a.geom, :n))).geom
    FROM areas a JOIN area_changed c ON c.code = a.code
    WHERE a.geom IS NOT NULL
    """
)

ANALYZE_PARTS = text("ANALYZE area_parts")
