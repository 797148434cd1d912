"""Report lists: the public map/list with filters, and a resident's own reports. Keyset pagination."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Text, any_, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from api.catalogue.models import Category
from api.core import pagination
from api.core.errors import AppError
from api.core.pagination import Instant
from api.core.status import ALL, CLOSED, OPEN, values
from api.reports.models import ReportAsR
from geo import Area

MAX_RADIUS_M = 10_000.0


def bad_param(name: str, why: str, why_vi: str) -> AppError:
    return AppError(
        f"Invalid '{name}': {why}",
        message_vi=f"Tham số '{name}' không hợp lệ: {why_vi}",
        code="invalid_parameter",
        details={"parameter": name},
    )


@dataclass(slots=True)
class ListFilter:
    near: tuple[float, float] | None = None  # (lat, lng)
    radius_m: float = 500.0
    bbox: tuple[float, float, float, float] | None = None  # min lng, min lat, max lng, max lat
    statuses: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    area: str | None = None
    since: datetime | None = None
    words: list[str] = field(default_factory=list)


def _floats(name: str, raw: str, n: int) -> list[float]:
    parts = raw.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != n or any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise bad_param(name, f"expected {n} comma-separated numbers", f"cần {n} số, cách nhau bởi dấu phẩy")
    return values


def _check_lat_lng(name: str, lat: float, lng: float) -> None:
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise bad_param(name, "latitude or longitude out of range", "vĩ độ hoặc kinh độ ngoài phạm vi")


def parse_filter(
    *,
    near: str | None,
    radius: float | None,
    bbox: str | None,
    status: str | None,
    category: str | None,
    ward: str | None,
    since: datetime | None,
    q: str | None,
) -> ListFilter:
    f = ListFilter(area=ward or None, since=since)
    if near:
        lat, lng = _floats("near", near, 2)
        _check_lat_lng("near", lat, lng)
        f.near = (lat, lng)
    if radius is not None:
        if not 0 < radius <= MAX_RADIUS_M:
            raise bad_param(
                "radius", f"must be in (0, {MAX_RADIUS_M:.0f}] metres", "phải trong khoảng (0, 10000] mét"
            )
        f.radius_m = radius
    if bbox:
        x1, y1, x2, y2 = _floats("bbox", bbox, 4)
        _check_lat_lng("bbox", y1, x1)
        _check_lat_lng("bbox", y2, x2)
        if x1 > x2 or y1 > y2:
            raise bad_param("bbox", "use minLng,minLat,maxLng,maxLat", "thứ tự minLng,minLat,maxLng,maxLat")
        f.bbox = (x1, y1, x2, y2)
    for s in (status or "").split(","):
        s = s.strip()
        if not s:
            continue
        if s == "open":
            f.statuses.extend(values(OPEN))
        elif s == "closed":
            f.statuses.extend(values(CLOSED))
        elif s in ALL:
            f.statuses.append(s)
        else:
            raise bad_param("status", f"unknown status {s!r}", f"trạng thái {s!r} không tồn tại")
    f.categories = [c.strip() for c in (category or "").split(",") if c.strip()]
    if q:
        f.words = [w for w in re.split(r"\s+", q.strip()) if w][:8]
    return f


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def where(f: ListFilter) -> list[ColumnElement[bool]]:
    """The filters as conditions over `r` (`ReportAsR`)."""
    r = ReportAsR
    conds: list[ColumnElement[bool]] = []
    if f.near:
        lat, lng = f.near
        point = func.ST_SetSRID(func.ST_MakePoint(lng, lat), 4326)
        # geography(geom): the expression the metres index (ix_reports_geog) is built on
        conds.append(func.ST_DWithin(func.geography(r.geom), func.geography(point), f.radius_m))
    if f.bbox:
        conds.append(r.geom.op("&&")(func.ST_MakeEnvelope(*f.bbox, 4326)))
    if f.statuses:
        conds.append(r.status == any_(literal(f.statuses, ARRAY(Text))))
    if f.categories:
        conds.append(r.category_code == any_(literal(f.categories, ARRAY(Text))))
    if f.area:
        conds.append(r.ward_code.in_(select(Area.code).where(literal(f.area) == any_(Area.lineage))))
    if f.since:
        conds.append(r.created_at >= f.since)
    for word in f.words:
        # search_text holds f_unaccent(description || address): "duong ngap" matches "đường ngập"
        conds.append(r.search_text.contains(func.f_unaccent(_escape_like(word))))
    return conds


async def list_reports(
    session: AsyncSession,
    *,
    conds: list[ColumnElement[bool]],
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    """Rows newest first, and the cursor of the next page (None at the end)."""
    r = ReportAsR
    conds = list(conds)
    if cursor:
        ts, rid = pagination.decode(cursor, tuple[Instant, uuid.UUID])
        conds.append(tuple_(r.created_at, r.id) < tuple_(literal(ts), literal(rid)))
    stmt = (
        select(
            r.id,
            r.code,
            r.category_code,
            Category.name_vi.label("category_vi"),
            Category.name_en.label("category_en"),
            r.status,
            r.visibility,
            r.description,
            r.address,
            r.public_description,
            r.public_address,
            func.ST_Y(r.geom).label("lat"),
            func.ST_X(r.geom).label("lng"),
            r.ward_code,
            Area.name.label("ward_name"),
            r.follower_count,
            r.created_at,
            r.updated_at,
        )
        .join(Category, Category.code == r.category_code)
        .join(Area, Area.code == r.ward_code)
        .where(*conds)
        .order_by(r.created_at.desc(), r.id.desc())
        .limit(limit + 1)
    )
    rows = list((await session.execute(stmt)).all())
    return pagination.page(rows, limit, lambda row: (row.created_at, row.id))
