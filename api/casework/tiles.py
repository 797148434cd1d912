"""Leaders' and officers' live map: Mapbox vector tiles of the in-scope cases, built by PostGIS.

One tile holds two layers:

- `reports`. Below `CLUSTER_BELOW_ZOOM` the cases are clustered on a grid of `CLUSTER_GRID` ×
  `CLUSTER_GRID` cells per tile: one point per non-empty cell, at the mean position of its cases,
  with `cluster` (true), `count`, `open_count`, `overdue_count`, and `code` when the cell holds a
  single case. A case belongs to exactly one tile at each zoom (its Web-Mercator cell, not the
  tile's buffer), so the counts of all the tiles of a zoom add up to the cases. From that zoom on,
  one point per case with `code`, `status`, `category`, `ward`, `overdue`, `open` and
  `deadline_state` (`api.casework.filters.deadline_state`); a tile that would hold more than
  `MAX_CASES` cases is clustered as below, whatever its zoom, so that no tile grows unbounded.
- `wards`: the boundaries of the wards in the caller's scope that meet the tile, with `code` and
  `name`, simplified to the tile's resolution so that low zooms stay small.

The caller's filters (`CaseFilter`) apply to `reports` only. The bounding-box test runs in EPSG:4326 on
the GIST indexes (reports.geom, area_parts.geom); the grid cell of a case is computed from its
longitude and latitude (`sql.MERCATOR_X`/`_Y`), so only a cluster's position is projected.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, ColumnElement, LargeBinary, Select, and_, case, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.access.scope import area_clause
from api.access.tokens import Principal
from api.casework import sql
from api.casework.filters import CaseFilter, check_areas, deadline_state, overdue, where
from api.core.errors import NotFound
from api.reports.models import ReportAsR
from geo import Area, AreaPart

MAX_ZOOM = 22
CLUSTER_BELOW_ZOOM = 14  # below this zoom the `reports` layer holds clusters, from it single cases
CLUSTER_GRID = 32  # cells across a tile: one cell is 16 px of a 512 px tile
EXTENT = 4096  # MVT units across a tile
BUFFER = 64  # MVT units drawn beyond the tile's edge (ward lines meet across tiles)
MAX_CASES = 4000  # single cases in one tile; a denser tile is clustered (about 50 bytes a case)
LAYER_REPORTS = "reports"
LAYER_WARDS = "wards"


def bad_tile() -> NotFound:
    return NotFound("No such tile.", message_vi="Không có ô bản đồ này.", code="tile_not_found")


def valid(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


async def tile(
    session: AsyncSession,
    principal: Principal,
    z: int,
    x: int,
    y: int,
    f: CaseFilter,
    *,
    due_soon: timedelta,
    now: datetime | None = None,
) -> bytes:
    """The tile's bytes (empty when it holds no feature); 404 for a tile outside the pyramid or an
    area filter outside the caller's scope."""
    if not valid(z, x, y):
        raise bad_tile()
    await check_areas(session, principal, f)
    now = now or datetime.now(UTC)
    row = (await session.execute(statement(principal, z, x, y, f, now=now, due_soon=due_soon))).one()
    if row.cases > MAX_CASES:
        row = (await session.execute(statement(principal, z, x, y, f, now=now, clustered=True))).one()
    return bytes(row.tile or b"")


def statement(
    principal: Principal,
    z: int,
    x: int,
    y: int,
    f: CaseFilter,
    *,
    now: datetime,
    due_soon: timedelta = timedelta(0),
    clustered: bool | None = None,
) -> Select[tuple[bytes, int]]:
    """The one statement that makes a tile (the benchmark runs it over raw asyncpg too): its bytes
    (`tile`) and how many single cases its `reports` layer holds (`cases`; 0 when clustered), at
    most `MAX_CASES` + 1. `clustered` forces clusters (None: below `CLUSTER_BELOW_ZOOM`)."""
    env = func.ST_TileEnvelope(z, x, y)
    if clustered is None:
        clustered = z < CLUSTER_BELOW_ZOOM
    if clustered:
        reports = _clusters(principal, z, x, y, f, now).cte("q")
        cases: ColumnElement[int] = literal(0)
    else:
        reports = _cases(principal, z, x, y, f, now, due_soon).limit(MAX_CASES + 1).cte("q")
        cases = select(func.count()).select_from(reports).scalar_subquery()
    wards = _wards(principal, z, env).subquery("w")
    layers = [
        func.coalesce(select(func.ST_AsMVT(q.table_valued(), name, EXTENT, "geom")).scalar_subquery(), b"")
        for q, name in ((reports, LAYER_REPORTS), (wards, LAYER_WARDS))
    ]
    return select(layers[0].op("||", return_type=LargeBinary)(layers[1]).label("tile"), cases.label("cases"))


def _mvt_point(geom_3857: ColumnElement[bytes], z: int, x: int, y: int) -> ColumnElement[bytes]:
    return func.ST_AsMVTGeom(geom_3857, func.ST_TileEnvelope(z, x, y), EXTENT, BUFFER, True)


def _in_tile_bbox(z: int, x: int, y: int) -> ColumnElement[bool]:
    r = ReportAsR
    return r.geom.op("&&")(func.ST_Transform(func.ST_TileEnvelope(z, x, y), 4326))


def _cases(
    principal: Principal, z: int, x: int, y: int, f: CaseFilter, now: datetime, due_soon: timedelta
) -> Select[Any]:
    r = ReportAsR
    return select(
        r.code,
        r.status,
        r.category_code.label("category"),
        r.ward_code.label("ward"),
        overdue(now).label("overdue"),
        sql.OPEN.label("open"),
        deadline_state(now, due_soon).label("deadline_state"),
        _mvt_point(func.ST_Transform(r.geom, 3857), z, x, y).label("geom"),
    ).where(_in_tile_bbox(z, x, y), *where(principal, f, now))


def _clusters(
    principal: Principal, z: int, x: int, y: int, f: CaseFilter, now: datetime
) -> Select[Any]:
    r = ReportAsR
    cells = 2**z * CLUSTER_GRID  # across the world
    cx = func.floor(sql.MERCATOR_X * cells).label("cx")
    cy = func.floor(sql.MERCATOR_Y * cells).label("cy")
    points = (
        select(
            r.code,
            sql.OPEN.label("open"),
            overdue(now).label("overdue"),
            func.ST_X(r.geom).label("lng"),
            func.ST_Y(r.geom).label("lat"),
            cx,
            cy,
        )
        .where(_in_tile_bbox(z, x, y), *where(principal, f, now))
        .subquery("p")
    )
    count = func.count()
    mean = func.ST_SetSRID(func.ST_MakePoint(func.avg(points.c.lng), func.avg(points.c.lat)), 4326)
    first, last = x * CLUSTER_GRID, (x + 1) * CLUSTER_GRID - 1
    top, bottom = y * CLUSTER_GRID, (y + 1) * CLUSTER_GRID - 1
    return (
        select(
            literal(True, Boolean).label("cluster"),
            count.label("count"),
            func.count().filter(points.c.open).label("open_count"),
            func.count().filter(points.c.overdue).label("overdue_count"),
            case((count == 1, func.min(points.c.code))).label("code"),
            _mvt_point(func.ST_Transform(mean, 3857), z, x, y).label("geom"),
        )
        # the tile's own cells only: a case near an edge is counted in one tile, not in its neighbour's buffer
        .where(points.c.cx.between(first, last), points.c.cy.between(top, bottom))
        .group_by(points.c.cx, points.c.cy)
    )


def _wards(principal: Principal, z: int, env: ColumnElement[bytes]) -> Select[Any]:
    a = aliased(Area, name="a")
    meeting = select(AreaPart.area_code).where(AreaPart.geom.op("&&")(func.ST_Transform(env, 4326)))
    tolerance = 360.0 / 2**z / EXTENT  # degrees: one MVT unit, finer than what the tile can draw
    shape = func.ST_Transform(func.ST_Simplify(a.geom, tolerance, True), 3857)
    return select(
        a.code,
        a.name,
        func.ST_AsMVTGeom(shape, env, EXTENT, BUFFER, True).label("geom"),
    ).where(
        and_(a.is_leaf == true(), a.geom.is_not(None), a.code.in_(meeting)),
        area_clause(principal, "a.code"),
    )


__all__ = [
    "CLUSTER_BELOW_ZOOM",
    "CLUSTER_GRID",
    "EXTENT",
    "LAYER_REPORTS",
    "LAYER_WARDS",
    "MAX_CASES",
    "statement",
    "tile",
]
