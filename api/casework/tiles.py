"""Leaders' and officers' live map: Mapbox vector tiles of the in-scope cases, built by PostGIS.

One tile holds two layers:

- `reports`. Below `CLUSTER_BELOW_ZOOM`, one cluster per ward, drawn at a fixed point inside it
  (`ward_points`), with `cluster` (true), `count`, `open_count`, `overdue_count`, and `code` when the
  ward counts a single case. The counts are summed from `report_counts` (or its roll-up per ward
  when no filter needs a category, status or date), kept by triggers on `reports`
  (api/casework/models.py): a tile costs the wards it shows, not the rows under it. A ward's
  point lies in exactly one tile per zoom, so the counts of all the tiles of a zoom add up to the
  cases. Overdue there is exact to the hour (the counts keep the deadline's hour). From that zoom on,
  one point per case with `code`, `status`, `category`, `ward`, `overdue`, `open` and
  `deadline_state` (on_time, due_soon, overdue, closed: `api.casework.sql`); a tile that would hold
  more than `MAX_CASES` cases is clustered on a grid of `CLUSTER_GRID` × `CLUSTER_GRID` cells
  instead, from the rows (one point per non-empty cell at the mean position of its cases, a case in
  the one tile of its cell), so no tile grows unbounded.
- `wards`: the boundaries of the wards in the caller's scope that meet the tile, with `code` and
  `name`, simplified to the tile's resolution so that low zooms stay small.

The caller's filters (status, category, area, period, overdue of `CaseFilter`) apply to `reports`.
The statements are hand-written (`sql.TILE_SINGLE`, `sql.TILE_WARD_CLUSTERS`, `sql.TILE_CLUSTERS`): a tile is a hot path, and
building the same statement with expressions cost more than running it at the higher zooms.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.access.scope import scope_params
from api.access.tokens import Principal
from api.casework import sql
from api.casework.filters import CaseFilter, check_areas
from api.core.clock import local_midnight, zone_name
from api.core.db import Sql
from api.core.errors import NotFound

MAX_ZOOM = 22
CLUSTER_BELOW_ZOOM = 14  # below this zoom the `reports` layer holds clusters, from it single cases
CLUSTER_GRID = 32  # cells across a tile: one cell is 16 px of a 512 px tile
EXTENT = sql.TILE_EXTENT
MAX_CASES = sql.TILE_MAX_CASES
LAYER_REPORTS = "reports"
LAYER_WARDS = "wards"
DEADLINE_STATES = sql.DEADLINE_STATES


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
    p = params(principal, z, x, y, f, now=now or datetime.now(UTC), due_soon=due_soon)
    if z >= CLUSTER_BELOW_ZOOM:
        row = await sql.TILE_SINGLE.fetchrow(session, p)
        assert row is not None
        if row["cases"] <= MAX_CASES:
            return bytes(row["tile"])
    elif counts_apply(f):
        row = await ward_clusters(f).fetchrow(session, p)
        assert row is not None
        return bytes(row["tile"])
    await sql.CLUSTER_SETTINGS.fetch(session, {})
    row = await sql.TILE_CLUSTERS.fetchrow(session, p)
    assert row is not None
    return bytes(row["tile"])


def counts_apply(f: CaseFilter) -> bool:
    """The kept counts answer the filters: their local days are the app's (a date filter under
    another zone falls back to counting the rows)."""
    return (f.date_from is None and f.date_to is None) or zone_name() == sql.COUNTS_ZONE


def ward_clusters(f: CaseFilter) -> Sql:
    """The statement of the wards' clusters: the roll-up per ward when no filter needs the finer counts."""
    if f.statuses or f.categories or f.date_from or f.date_to:
        return sql.TILE_WARD_CLUSTERS
    return sql.TILE_WARD_TOTALS


def params(
    principal: Principal, z: int, x: int, y: int, f: CaseFilter, *, now: datetime, due_soon: timedelta
) -> dict[str, Any]:
    """The parameters of `sql.TILE_SINGLE`, `sql.TILE_WARD_CLUSTERS` and `sql.TILE_CLUSTERS` (the
    benchmark runs them too)."""
    if f.open_only or f.near_boundary is not None or f.assigned or f.extra_conds or f.ward:
        raise ValueError("the map filters by status, category, area, period and overdue only")
    return {
        "z": z,
        "x": x,
        "y": y,
        "now": now,
        "due_soon_until": now + due_soon,
        "statuses": list(f.statuses) or None,
        "categories": list(f.categories) or None,
        "area": f.area,
        "created_from": local_midnight(f.date_from) if f.date_from else None,
        "created_before": local_midnight(f.date_to + timedelta(days=1)) if f.date_to else None,
        "overdue": f.overdue,
        "day_from": f.date_from,
        "day_to": f.date_to,
        "cells": float(2**z * CLUSTER_GRID),
        "cx0": float(x * CLUSTER_GRID),
        "cx1": float((x + 1) * CLUSTER_GRID),
        "cy0": float(y * CLUSTER_GRID),
        "cy1": float((y + 1) * CLUSTER_GRID),
        "tolerance": 360.0 / 2**z / EXTENT,  # degrees: one MVT unit, finer than the tile can draw
        **scope_params(principal),
    }


__all__ = [
    "CLUSTER_BELOW_ZOOM",
    "CLUSTER_GRID",
    "DEADLINE_STATES",
    "EXTENT",
    "LAYER_REPORTS",
    "LAYER_WARDS",
    "MAX_CASES",
    "counts_apply",
    "params",
    "tile",
    "ward_clusters",
]
