"""CSV and GeoJSON exports of the caller's in-scope cases, streamed.

What the console shows, as files: the ward's and the category's names beside their codes, and every
time in the local zone (`PHANANH_TIMEZONE`) with its offset, as people read it. The CSV starts with a
byte-order mark so that spreadsheet programs read it as UTF-8.

Rows come from a server-side cursor in batches (`AsyncConnection.stream` + `yield_per`) and are
encoded batch by batch, so memory stays flat whatever the number of rows. The first chunk holds the
first batch (or says there is none): nothing is sent before the query has answered
(api/core/streams.py).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select

from api.access.tokens import Principal
from api.casework import sql
from api.casework.filters import CaseFilter, Condition, overdue, where
from api.catalogue.models import Category
from api.core import clock
from api.core.db import Database
from api.core.overload import Ticket
from api.reports.models import ReportAsR
from geo import Area

BATCH = 2000
SLICE = 250
PAUSE_S = 0.005

COLUMNS = (
    "code",
    "status",
    "visibility",
    "category",
    "category_name_vi",
    "category_name_en",
    "ward",
    "ward_name",
    "agency",
    "created_at",
    "ack_due_at",
    "resolve_due_at",
    "due_at",
    "overdue",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "near_boundary",
    "assignee_id",
    "follower_count",
    "reopen_count",
    "rating",
    "hold_started_at",
    "hold_seconds",
    "lat",
    "lng",
    "address",
    "description",
)


def _select(conds: list[Condition], now: datetime, *, geojson: bool) -> Select[Any]:
    r = ReportAsR
    columns = [
        r.code,
        r.status,
        r.visibility,
        r.category_code.label("category"),
        Category.name_vi.label("category_name_vi"),
        Category.name_en.label("category_name_en"),
        r.ward_code.label("ward"),
        Area.name.label("ward_name"),
        r.agency_code.label("agency"),
        r.created_at,
        r.ack_due_at,
        r.resolve_due_at,
        sql.DUE.label("due_at"),
        overdue(now).label("overdue"),
        r.acknowledged_at,
        r.resolved_at,
        r.closed_at,
        r.near_boundary,
        r.assignee_id,
        r.follower_count,
        r.reopen_count,
        r.rating,
        r.hold_started_at,
        r.hold_seconds,
        func.ST_Y(r.geom).label("lat"),
        func.ST_X(r.geom).label("lng"),
        r.address,
        r.description,
    ]
    if geojson:
        columns.append(func.ST_AsGeoJSON(r.geom, 6).label("geometry"))
    return (
        select(*columns)
        .select_from(r)
        .outerjoin(Category, Category.code == r.category_code)
        .outerjoin(Area, Area.code == r.ward_code)
        .where(*conds)
        .order_by(r.created_at, r.code)
    )


async def _rows(
    database: Database,
    principal: Principal,
    f: CaseFilter,
    now: datetime,
    *,
    geojson: bool,
    turn: Ticket | None,
) -> AsyncIterator[list[Any]]:
    """The rows in batches, under the long role's bounds; `turn` (the export's place among those
    running) is given back at the end, or when the stream is dropped unread."""
    stmt = _select(where(principal, f, now), now, geojson=geojson)
    try:
        async with database.connect(long=True) as conn:
            result = await conn.stream(stmt.execution_options(yield_per=BATCH))
            async for batch in result.partitions(BATCH):
                # formatted and sent a slice at a time, with a short pause after each: the event
                # loop serves the other requests between slices, and an export takes a bounded
                # share of the process rather than all it can get
                for i in range(0, len(batch), SLICE):
                    yield list(batch[i : i + SLICE])
                    await asyncio.sleep(PAUSE_S)
    finally:
        if turn is not None:
            turn.close()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return clock.to_local(value).isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


async def csv_chunks(
    database: Database,
    principal: Principal,
    f: CaseFilter,
    *,
    now: datetime | None = None,
    turn: Ticket | None = None,
) -> AsyncIterator[bytes]:
    now = now or datetime.now(UTC)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")  # BOM: spreadsheet programs then read the Vietnamese text as UTF-8
    writer.writerow(COLUMNS)
    async for batch in _rows(database, principal, f, now, geojson=False, turn=turn):
        for row in batch:
            writer.writerow([_cell(v) for v in row])
        yield buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()
    if buf.tell():  # no rows: the header alone
        yield buf.getvalue().encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return clock.to_local(value).isoformat()
    return str(value)


async def geojson_chunks(
    database: Database,
    principal: Principal,
    f: CaseFilter,
    *,
    now: datetime | None = None,
    turn: Ticket | None = None,
) -> AsyncIterator[bytes]:
    now = now or datetime.now(UTC)
    head = '{"type":"FeatureCollection","features":['
    first = True
    props = [c for c in COLUMNS if c not in ("lat", "lng")]
    async for batch in _rows(database, principal, f, now, geojson=True, turn=turn):
        parts: list[str] = []
        for row in batch:
            m = row._mapping
            feature = {
                "type": "Feature",
                "id": m["code"],
                "geometry": None,  # spliced in below from PostGIS' own text
                "properties": {k: m[k] for k in props},
            }
            text_ = json.dumps(feature, default=_json_default, ensure_ascii=False)
            geometry = m["geometry"] or "null"
            text_ = text_.replace('"geometry": null', f'"geometry": {geometry}', 1)
            parts.append(text_ if first else "," + text_)
            first = False
        yield (head + "".join(parts)).encode()
        head = ""
    yield (head + "]}").encode()
