"""Leaders' live map: Mapbox vector tiles of the in-scope cases (layer `reports`).

Attributes: code, status, category, ward, overdue (computed now), open. Built by PostGIS
(ST_AsMVT over ST_AsMVTGeom in EPSG:3857); the bounding-box test runs in 4326 on the GIST index.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.tokens import Principal
from api.casework.filters import OPEN_SQL, OVERDUE_SQL, CaseFilter, where
from api.core.errors import NotFound

MAX_ZOOM = 22


def _bad_tile() -> NotFound:
    return NotFound("No such tile.", message_vi="Không có ô bản đồ này.", code="tile_not_found")


async def tile(
    session: AsyncSession,
    principal: Principal,
    z: int,
    x: int,
    y: int,
    f: CaseFilter,
    *,
    now: datetime | None = None,
) -> bytes:
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise _bad_tile()
    now = now or datetime.now(UTC)
    conds, params = where(principal, f, now)
    data = await session.scalar(
        text(
            f"""
            WITH b AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env),
            q AS (
                SELECT r.code, r.status, r.category_code AS category, r.ward_code AS ward,
                       {OVERDUE_SQL} AS overdue, {OPEN_SQL} AS open,
                       ST_AsMVTGeom(ST_Transform(r.geom, 3857), b.env, 4096, 64, true) AS geom
                FROM reports r, b
                WHERE r.geom && ST_Transform(b.env, 4326) AND {" AND ".join(conds)}
            )
            SELECT ST_AsMVT(q, 'reports', 4096, 'geom') FROM q
            """
        ),
        {**params, "z": z, "x": x, "y": y},
    )
    return bytes(data or b"")
