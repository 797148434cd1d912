"""Leaders' live map: Mapbox vector tiles of the in-scope cases (layer `reports`).

Attributes: code, status, category, ward, overdue (computed now), open. Built by PostGIS
(ST_AsMVT over ST_AsMVTGeom in EPSG:3857); the bounding-box test runs in 4326 on the GIST index.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.tokens import Principal
from api.casework import sql
from api.casework.filters import CaseFilter, overdue, where
from api.core.errors import NotFound
from api.reports.models import ReportAsR

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
    r = ReportAsR
    envelope = select(func.ST_TileEnvelope(z, x, y).label("env")).cte("b")
    features = (
        select(
            r.code,
            r.status,
            r.category_code.label("category"),
            r.ward_code.label("ward"),
            overdue(now).label("overdue"),
            sql.OPEN.label("open"),
            func.ST_AsMVTGeom(func.ST_Transform(r.geom, 3857), envelope.c.env, 4096, 64, True).label("geom"),
        )
        .join(envelope, r.geom.op("&&")(func.ST_Transform(envelope.c.env, 4326)))  # the GIST index, in 4326
        .where(*where(principal, f, now))
        .subquery("q")
    )
    data = await session.scalar(select(func.ST_AsMVT(features.table_valued(), "reports", 4096, "geom")))
    return bytes(data or b"")
