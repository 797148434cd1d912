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
from sqlalchemy.ext.asyncio import AsyncConnection

from geo import sql

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


async def lineage(conn: AsyncConnection, code: str) -> list[AreaRef]:
    """The area and its ancestors, root first."""
    rows = (await conn.execute(sql.LINEAGE.text, {"code": code})).all()
    return [AreaRef(r.code, r.name, r.level) for r in rows]


def assign_params(lat: float, lng: float, snap_distance_m: float, near_boundary_m: float) -> dict[str, float]:
    """`sql.ASSIGN`'s parameters."""
    return {
        "lng": lng,
        "lat": lat,
        "near_m": near_boundary_m,
        "near_deg": degrees_for(near_boundary_m, lat),
        "snap_deg": degrees_for(snap_distance_m, lat),
        "snap_m": snap_distance_m,
    }


def assignment_from(row: Any, chain: list[AreaRef]) -> Assignment:
    """The answer from a row of `sql.ASSIGN` (its n, snapped, d, near_boundary) and the ward's lineage."""
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
    params = assign_params(lat, lng, snap_distance_m, near_boundary_m)
    row = (await conn.execute(sql.ASSIGN.text, params)).mappings().first()
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
        rows = await sql.LINEAGE.fetch(conn, {"code": code})
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
    row = await sql.ASSIGN.fetchrow(conn, assign_params(lat, lng, snap_distance_m, near_boundary_m))
    if row is None:
        return None
    return assignment_from(row, await cache.get(conn, row["code"]))
