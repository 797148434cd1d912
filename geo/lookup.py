"""Which ward is responsible for a point.

A point inside one ward's polygon gets that ward. On a shared edge or in an overlap it gets the
lowest code (deterministic) and `near_boundary`. In no polygon (river, coast, gap) it is snapped to
the nearest ward within `snap_distance_m`; farther than that there is no answer (None).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True, slots=True)
class AreaRef:
    code: str
    name: str
    level: str


@dataclass(frozen=True, slots=True)
class Assignment:
    ward: AreaRef
    ancestors: list[AreaRef] = field(default_factory=list)  # root first
    snapped: bool = False
    distance_m: float | None = None
    near_boundary: bool = False
    candidates: int = 1  # wards whose polygon covers the point (2+: an edge or an overlap; 0: snapped)


def degrees_for(metres: float, lat: float) -> float:
    """A box half-width in degrees that surely covers `metres` around latitude `lat`."""
    return metres / (M_PER_DEG_LAT * max(math.cos(math.radians(min(abs(lat), 89.0))), 0.01))


# One round trip: the covering wards (lowest code wins, flagged when 2+ or another ward lies within
# near_m); only when none covers the point does the second branch (nearest ward within snap_m) run —
# the outer LIMIT 1 stops the Append after the first branch's row. Parameters: `assign_params`.
# A hot path may embed it in a larger statement and build the answer with `assignment_from`.
ASSIGN_SQL = """
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(CAST($1 AS float8), CAST($2 AS float8)), 4326) AS g),
hit AS (
    SELECT min(h.area_code) AS code, count(*)::int AS n
    FROM (SELECT DISTINCT p.area_code FROM area_parts p, pt WHERE ST_Intersects(p.geom, pt.g)) h
),
near AS (
    SELECT p.area_code, ST_Distance(p.geom::geography, pt.g::geography) AS d
    FROM area_parts p, pt WHERE p.geom && ST_Expand(pt.g, CAST($5 AS float8))
)
SELECT * FROM (
    SELECT h.code, h.n, false AS snapped, NULL::float8 AS d,
           h.n > 1 OR EXISTS (
               SELECT 1 FROM area_parts q, pt
               WHERE q.area_code <> h.code AND q.geom && ST_Expand(pt.g, CAST($4 AS float8))
                 AND ST_DWithin(q.geom::geography, pt.g::geography, CAST($3 AS float8))) AS near_boundary
    FROM hit h WHERE h.code IS NOT NULL
    UNION ALL
    (SELECT n.area_code, 0, true, n.d,
            (SELECT count(DISTINCT n2.area_code) FROM near n2 WHERE n2.d <= n.d + CAST($3 AS float8)) > 1
     FROM near n WHERE n.d <= CAST($6 AS float8) ORDER BY n.d, n.area_code LIMIT 1)
) found LIMIT 1
"""

# The same statement for SQLAlchemy connections (named parameters).
_ONE = text(
    ASSIGN_SQL.replace("$1", ":lng")
    .replace("$2", ":lat")
    .replace("$3", ":near_m")
    .replace("$4", ":near_deg")
    .replace("$5", ":snap_deg")
    .replace("$6", ":snap_m")
)

_LINEAGE_SQL = """
SELECT x.code, x.name, x.level FROM areas a JOIN areas x ON x.code = ANY(a.lineage)
WHERE a.code = $1 ORDER BY x.depth
"""

_AREAS = text(
    """
    SELECT x.code, x.name, x.level FROM areas a JOIN areas x ON x.code = ANY(a.lineage)
    WHERE a.code = :code ORDER BY x.depth
    """
)


async def lineage(conn: AsyncConnection, code: str) -> list[AreaRef]:
    """The area and its ancestors, root first."""
    rows = (await conn.execute(_AREAS, {"code": code})).all()
    return [AreaRef(r.code, r.name, r.level) for r in rows]


def assign_params(
    lat: float, lng: float, snap_distance_m: float, near_boundary_m: float
) -> tuple[float, ...]:
    return (
        lng,
        lat,
        near_boundary_m,
        degrees_for(near_boundary_m, lat),
        degrees_for(snap_distance_m, lat),
        snap_distance_m,
    )


def assignment_from(row: Any, chain: list[AreaRef]) -> Assignment:
    """The answer from a row of ASSIGN_SQL (its n, snapped, d, near_boundary) and the ward's lineage."""
    distance = row["d"]
    return Assignment(
        ward=chain[-1],
        ancestors=chain[:-1],
        snapped=bool(row["snapped"]),
        distance_m=None if distance is None else round(float(distance), 1),
        near_boundary=bool(row["near_boundary"]),
        candidates=int(row["n"]),
    )


async def assign(
    conn: AsyncConnection, lat: float, lng: float, *, snap_distance_m: float, near_boundary_m: float
) -> Assignment | None:
    """The responsible ward for (lat, lng), or None when the point is outside the service area."""
    p = assign_params(lat, lng, snap_distance_m, near_boundary_m)
    names = ("lng", "lat", "near_m", "near_deg", "snap_deg", "snap_m")
    row = (await conn.execute(_ONE, dict(zip(names, p, strict=True)))).mappings().first()
    if row is None:
        return None
    return assignment_from(row, await lineage(conn, row["code"]))


class LineageCache:
    """Ward code → its chain of AreaRefs. Areas change only on import, so entries live `ttl_s`."""

    def __init__(self, ttl_s: float = 60.0) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, list[AreaRef]]] = {}

    async def get(self, conn: asyncpg.Connection, code: str) -> list[AreaRef]:
        now = time.monotonic()
        hit = self._entries.get(code)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        rows = await conn.fetch(_LINEAGE_SQL, code)
        chain = [AreaRef(r["code"], r["name"], r["level"]) for r in rows]
        self._entries[code] = (now, chain)
        return chain


async def assign_fast(
    conn: asyncpg.Connection,
    cache: LineageCache,
    lat: float,
    lng: float,
    *,
    snap_distance_m: float,
    near_boundary_m: float,
) -> Assignment | None:
    """`assign` for hot paths: a raw asyncpg connection (its statement cache keeps the query prepared),
    one round trip, and the lineage from an in-process cache."""
    row = await conn.fetchrow(ASSIGN_SQL, *assign_params(lat, lng, snap_distance_m, near_boundary_m))
    if row is None:
        return None
    return assignment_from(row, await cache.get(conn, row["code"]))
