"""Report lists: the public map/list with filters, and a resident's own reports. Keyset pagination."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.core import pagination
from api.core.errors import AppError
from api.core.pagination import Instant
from api.core.status import ALL, CLOSED, OPEN, values

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


def where(f: ListFilter) -> tuple[list[str], dict[str, Any]]:
    conds: list[str] = []
    params: dict[str, Any] = {}
    if f.near:
        conds.append(
            "ST_DWithin(geography(r.geom), geography(ST_SetSRID(ST_MakePoint(:near_lng, :near_lat), 4326)), :radius)"
        )
        params.update(near_lat=f.near[0], near_lng=f.near[1], radius=f.radius_m)
    if f.bbox:
        conds.append("r.geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)")
        params.update(x1=f.bbox[0], y1=f.bbox[1], x2=f.bbox[2], y2=f.bbox[3])
    if f.statuses:
        conds.append("r.status = ANY(:statuses)")
        params["statuses"] = f.statuses
    if f.categories:
        conds.append("r.category_code = ANY(:categories)")
        params["categories"] = f.categories
    if f.area:
        conds.append("r.ward_code IN (SELECT code FROM areas WHERE :area = ANY(lineage))")
        params["area"] = f.area
    if f.since:
        conds.append("r.created_at >= :since")
        params["since"] = f.since
    for i, word in enumerate(f.words):
        # search_text holds f_unaccent(description || address): "duong ngap" matches "đường ngập"
        conds.append(f"r.search_text LIKE '%' || f_unaccent(:w{i}) || '%'")
        params[f"w{i}"] = _escape_like(word)
    return conds, params


_LIST_COLUMNS = """
    r.id, r.code, r.category_code, c.name_vi AS category_vi, c.name_en AS category_en, r.status,
    r.visibility, r.description, r.address, r.public_description, r.public_address, ST_Y(r.geom) AS lat,
    ST_X(r.geom) AS lng, r.ward_code, w.name AS ward_name, r.follower_count, r.created_at, r.updated_at
"""


async def list_reports(
    session: AsyncSession,
    *,
    conds: list[str],
    params: dict[str, Any],
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    """Rows newest first, and the cursor of the next page (None at the end)."""
    conds = list(conds)
    params = dict(params)
    if cursor:
        ts, rid = pagination.decode(cursor, tuple[Instant, uuid.UUID])
        conds.append("(r.created_at, r.id) < (:c_ts, :c_id)")
        params.update(c_ts=ts, c_id=rid)
    sql = f"""
        SELECT {_LIST_COLUMNS}
        FROM reports r JOIN categories c ON c.code = r.category_code JOIN areas w ON w.code = r.ward_code
        WHERE {" AND ".join(conds) or "true"}
        ORDER BY r.created_at DESC, r.id DESC
        LIMIT :limit
    """
    rows = list((await session.execute(text(sql), {**params, "limit": limit + 1})).all())
    return pagination.page(rows, limit, lambda r: (r.created_at, r.id))
