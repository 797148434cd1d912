"""The casework's hand-written SQL: fragments over `reports r` (`api.reports.models.ReportAsR`) that
the statements built with SQLAlchemy expressions embed where a literal matters to the planner."""

from __future__ import annotations

from sqlalchemy import Boolean, DateTime, literal_column

from api.access.scope import area_scope_sql, scope_scan
from api.core import status
from api.core.db import Sql
from api.core.status import ReportStatus, sql_in

# The case's next deadline: acknowledging while it is `new`, resolving after that; closed and paused
# (on hold) cases have none. Literals rendered from the one status list (api.core.status), not parameters, and written as
# ix_reports_queue_due (migration 0006; the model: api.reports.sql.QUEUE_DUE_INDEX_KEY) has it: the planner uses an
# expression index (and its partial predicate) only for the same expression.
_DUE = (
    f"(CASE WHEN r.status = '{ReportStatus.NEW.value}' THEN LEAST(r.ack_due_at, r.resolve_due_at) "
    f"WHEN r.status IN {sql_in(status.OPEN - status.PAUSED - {ReportStatus.NEW})} THEN r.resolve_due_at END)"
)
DUE = literal_column(_DUE, DateTime(timezone=True))

# The queue's order: the next deadline, cases without one last.
DUE_KEY = literal_column(f"COALESCE({_DUE}, 'infinity'::timestamptz)", DateTime(timezone=True))

# Open cases, as the index's partial predicate reads.
_OPEN = f"r.status IN {sql_in(status.OPEN)}"
OPEN = literal_column(_OPEN, Boolean)

# --- where a case stands against its deadline, at :now --------------------------------------------
# `overdue`: past its next deadline (a case without one is not), as api.casework.filters.overdue.
# `deadline_state`: `closed` (not open), `overdue`, `due_soon` (the deadline comes by
# :due_soon_until, now plus the settings' `due_soon_s`), else `on_time` (also an open case without
# a deadline). The map's one definition of the states.
_OVERDUE = f"COALESCE(CAST(:now AS timestamptz) > {_DUE}, false)"
_DEADLINE_STATE = (
    f"(CASE WHEN NOT ({_OPEN}) THEN 'closed' WHEN {_OVERDUE} THEN 'overdue' "
    f"WHEN {_DUE} <= CAST(:due_soon_until AS timestamptz) THEN 'due_soon' ELSE 'on_time' END)"
)
DEADLINE_STATES = ("on_time", "due_soon", "overdue", "closed")

# --- map tiles (api/casework/tiles.py) ----------------------------------------------------------
TILE_EXTENT = 4096  # MVT units across a tile
TILE_BUFFER = 64  # MVT units drawn beyond the tile's edge (ward lines meet across tiles)
TILE_MAX_CASES = 4000  # single cases in one tile; a denser tile is clustered (about 50 bytes a case)

_ENVELOPE = "ST_TileEnvelope(:z, :x, :y)"
# the tile's box in 4326, for the GIST indexes (reports.geom, area_parts.geom)
_BOX = f"ST_Transform({_ENVELOPE}, 4326)"
# A report's Web-Mercator position as a fraction of the world's width (0..1, west to east; north to
# south for y), from its longitude and latitude: plain arithmetic, since the clusters only need the
# grid cell a report falls in, instead of projecting every point with ST_Transform.
_MERCATOR_X = "((ST_X(r.geom) + 180.0) / 360.0)"
_MERCATOR_Y = "((1.0 - ln(tan(radians(ST_Y(r.geom))) + 1.0 / cos(radians(ST_Y(r.geom)))) / pi()) / 2.0)"

# The cases that the caller may see and the filters keep: the filters of
# api.casework.filters.CaseFilter that the map offers, each a parameter that is NULL when not asked.
_CASE_FILTERS = f"""
    (CAST(:statuses AS text[]) IS NULL OR r.status = ANY(CAST(:statuses AS text[])))
    AND (CAST(:categories AS text[]) IS NULL OR r.category_code = ANY(CAST(:categories AS text[])))
    AND (CAST(:area AS text) IS NULL
         OR EXISTS (SELECT 1 FROM areas fa WHERE fa.code = r.ward_code AND CAST(:area AS text) = ANY(fa.lineage)))
    AND (CAST(:created_from AS timestamptz) IS NULL OR r.created_at >= CAST(:created_from AS timestamptz))
    AND (CAST(:created_before AS timestamptz) IS NULL OR r.created_at < CAST(:created_before AS timestamptz))
    AND (CAST(:overdue AS boolean) IS NULL OR {_OVERDUE} = CAST(:overdue AS boolean))
    AND {scope_scan("r")}
"""
# The same, in the tile's box.
_TILE_CASES = f"r.geom && {_BOX} AND {_CASE_FILTERS}"

# The wards of the caller's scope that meet the tile, simplified by :tolerance degrees.
_TILE_WARDS = f"""
    SELECT a.code, a.name,
           ST_AsMVTGeom(ST_Transform(ST_Simplify(a.geom, :tolerance, true), 3857), {_ENVELOPE},
                        {TILE_EXTENT}, {TILE_BUFFER}, true) AS geom
    FROM areas a
    WHERE a.is_leaf AND a.geom IS NOT NULL
      AND a.code IN (SELECT ap.area_code FROM area_parts ap WHERE ap.geom && {_BOX})
      AND {area_scope_sql("a.code")}
"""

_TILE_LAYERS = f"""
    SELECT COALESCE((SELECT ST_AsMVT(q, 'reports', {TILE_EXTENT}, 'geom') FROM q), CAST('' AS bytea))
           || COALESCE((SELECT ST_AsMVT(w, 'wards', {TILE_EXTENT}, 'geom') FROM w), CAST('' AS bytea)) AS tile
"""

# One point per case (at most TILE_MAX_CASES + 1: `cases` says when the tile must be clustered).
TILE_SINGLE = Sql(
    f"""
    WITH q AS (
        SELECT r.code, r.status, r.category_code AS category, r.ward_code AS ward,
               {_OVERDUE} AS overdue, {_OPEN} AS open, {_DEADLINE_STATE} AS deadline_state,
               ST_AsMVTGeom(ST_Transform(r.geom, 3857), {_ENVELOPE}, {TILE_EXTENT}, {TILE_BUFFER}, true) AS geom
        FROM reports r
        WHERE {_TILE_CASES}
        LIMIT {TILE_MAX_CASES + 1}
    ), w AS ({_TILE_WARDS})
    {_TILE_LAYERS}, (SELECT count(*) FROM q) AS cases
    """
)

# One point per non-empty grid cell (:cells across the world) at the mean position of its cases.
# Grouped over the whole box, then the tile's own cells kept (:cx0 <= cx < :cx1, :cy0 <= cy < :cy1):
# a case on the box's edge counts in one tile only; materialized, so that the planner estimates
# the grouping from the box (hash aggregation) rather than from those filters.
TILE_CLUSTERS = Sql(
    f"""
    WITH c AS MATERIALIZED (
        SELECT floor({_MERCATOR_X} * :cells) AS cx, floor({_MERCATOR_Y} * :cells) AS cy,
               count(*) AS count, count(*) FILTER (WHERE {_OPEN}) AS open_count,
               count(*) FILTER (WHERE {_OVERDUE}) AS overdue_count,
               CASE WHEN count(*) = 1 THEN min(r.code) END AS code,
               avg(ST_X(r.geom)) AS lng, avg(ST_Y(r.geom)) AS lat
        FROM reports r
        WHERE {_TILE_CASES}
        GROUP BY 1, 2
    ), q AS (
        SELECT true AS cluster, count, open_count, overdue_count, code,
               ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(lng, lat), 4326), 3857), {_ENVELOPE},
                            {TILE_EXTENT}, {TILE_BUFFER}, true) AS geom
        FROM c
        WHERE cx >= :cx0 AND cx < :cx1 AND cy >= :cy0 AND cy < :cy1
    ), w AS ({_TILE_WARDS})
    {_TILE_LAYERS}, 0 AS cases
    """
)

# --- clusters from the kept counts (report_counts, ward_points: api/casework/models.py) -------------
# The zone of report_counts.created_day, frozen in migration 0017: the date filters read the counts
# only while the app's local zone is this one.
COUNTS_ZONE = "Asia/Ho_Chi_Minh"
_POINT_X = _MERCATOR_X.replace("r.geom", "p.geom")
_POINT_Y = _MERCATOR_Y.replace("r.geom", "p.geom")

# One point per ward whose fixed point (ward_points) lies in the tile — in exactly one tile per zoom,
# its grid cell between :cx0 and :cx1 as the grid clusters' — with the counts of its reports that the
# filters keep and the caller may see, summed from report_counts (the same filters and scope rule as
# `_CASE_FILTERS`, over the counts' dimensions; overdue: a deadline bucket before :now). `code` only
# for a ward counting one case, looked up among its reports.
_WARDS_IN_TILE = f"""
    SELECT p.ward_code, p.geom
    FROM ward_points p
    WHERE p.geom && {_BOX}
      AND floor({_POINT_X} * :cells) >= :cx0 AND floor({_POINT_X} * :cells) < :cx1
      AND floor({_POINT_Y} * :cells) >= :cy0 AND floor({_POINT_Y} * :cells) < :cy1
      AND (CAST(:area AS text) IS NULL
           OR EXISTS (SELECT 1 FROM areas fa WHERE fa.code = p.ward_code AND CAST(:area AS text) = ANY(fa.lineage)))
"""
_OVERDUE_KEPT = "(rc.due_hour < CAST(:now AS timestamptz))"
_WARD_CLUSTERS = f"""
    q AS (
        SELECT true AS cluster, count, open_count, overdue_count,
               CASE WHEN count = 1 THEN
                   (SELECT r.code FROM reports r WHERE r.ward_code = c.ward_code AND {_CASE_FILTERS} LIMIT 1)
               END AS code,
               ST_AsMVTGeom(ST_Transform(c.geom, 3857), {_ENVELOPE}, {TILE_EXTENT}, {TILE_BUFFER}, true) AS geom
        FROM c
    ), w AS ({_TILE_WARDS})
    {_TILE_LAYERS}
"""

TILE_WARD_CLUSTERS = Sql(
    f"""
    WITH k AS ({_WARDS_IN_TILE}), c AS (
        SELECT k.ward_code, k.geom, sum(rc.n) AS count,
               COALESCE(sum(rc.n) FILTER (WHERE rc.status IN {sql_in(status.OPEN)}), 0) AS open_count,
               COALESCE(sum(rc.n) FILTER (WHERE {_OVERDUE_KEPT}), 0) AS overdue_count
        FROM k JOIN report_counts rc ON rc.ward_code = k.ward_code
        WHERE (CAST(:statuses AS text[]) IS NULL OR rc.status = ANY(CAST(:statuses AS text[])))
          AND (CAST(:categories AS text[]) IS NULL OR rc.category_code = ANY(CAST(:categories AS text[])))
          AND (CAST(:day_from AS date) IS NULL OR rc.created_day >= CAST(:day_from AS date))
          AND (CAST(:day_to AS date) IS NULL OR rc.created_day <= CAST(:day_to AS date))
          AND (CAST(:overdue AS boolean) IS NULL OR {_OVERDUE_KEPT} = CAST(:overdue AS boolean))
          AND {scope_scan("rc")}
        GROUP BY k.ward_code, k.geom
    ), {_WARD_CLUSTERS}
    """
)

# The same without a category, status or date filter, from the roll-up per ward (report_ward_counts).
TILE_WARD_TOTALS = Sql(
    f"""
    WITH k AS ({_WARDS_IN_TILE}), c AS (
        SELECT k.ward_code, k.geom, sum(rc.n) AS count, sum(rc.open_n) AS open_count,
               COALESCE(sum(rc.n) FILTER (WHERE {_OVERDUE_KEPT}), 0) AS overdue_count
        FROM k JOIN report_ward_counts rc ON rc.ward_code = k.ward_code
        WHERE (CAST(:overdue AS boolean) IS NULL OR {_OVERDUE_KEPT} = CAST(:overdue AS boolean))
          AND {scope_scan("rc")}
        GROUP BY k.ward_code, k.geom
        HAVING sum(rc.n) > 0
    ), {_WARD_CLUSTERS}
    """
)

# For the clusters' statement, in its transaction: it scans many rows once, so compiling it to
# machine code (JIT) costs more than it saves (seconds at a city's zoom); and grouping by hashing
# beats sorting the rows by their cell, which the planner picks from its low estimate of the rows
# in a dense tile.
CLUSTER_SETTINGS = Sql("SELECT set_config('jit', 'off', true), set_config('enable_sort', 'off', true)")

# The live listener's check that its connection still answers.
PING = Sql("SELECT 1")

# A ward's lineage (codes from the root down to it), for the live streams' scope test.
WARD_LINEAGE = Sql("SELECT lineage FROM areas WHERE code = :ward")
