"""Leaders' figures per ward, category or day, over the reports received in a date window.

Definitions (per group, over reports whose `created_at` falls in [from, to] local days):
- received: reports received; open: a status in api.core.status.OPEN; overdue: open and past their
  next deadline now;
- resolved_on_time_pct: of the reports resolved (resolved_at set), the share resolved by resolve_due_at;
- median_ack_hours / median_resolve_hours: median of acknowledged_at − created_at / resolved_at − created_at;
- reopen_rate: of the reports ever resolved (resolved_at set or reopened), the share reopened at least once;
- mean_rating: mean of the residents' ratings (1–5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.tokens import Principal
from api.casework.filters import OPEN_SQL, OVERDUE_SQL, CaseFilter, check_area, where
from api.core import clock

GroupBy = Literal["ward", "category", "day"]

_GROUP_SQL: dict[str, str] = {
    "ward": "r.ward_code",
    "category": "r.category_code",
    "day": "to_char((r.created_at AT TIME ZONE :tz)::date, 'YYYY-MM-DD')",
}


@dataclass(frozen=True, slots=True)
class Row:
    key: str | None
    received: int
    open: int
    overdue: int
    resolved: int
    resolved_on_time: int
    resolved_on_time_pct: float | None
    median_ack_hours: float | None
    median_resolve_hours: float | None
    reopen_rate: float | None
    mean_rating: float | None
    ratings: int


async def stats(
    session: AsyncSession,
    principal: Principal,
    f: CaseFilter,
    group_by: GroupBy,
    *,
    now: datetime | None = None,
) -> list[Row]:
    now = now or datetime.now(UTC)
    if f.area:
        await check_area(session, principal, f.area)
    conds, params = where(principal, f, now)
    params["tz"] = clock.zone_name()
    key = _GROUP_SQL[group_by]
    rows = await session.execute(
        text(
            f"""
            SELECT {key} AS key,
                   count(*) AS received,
                   count(*) FILTER (WHERE {OPEN_SQL}) AS open,
                   count(*) FILTER (WHERE {OVERDUE_SQL}) AS overdue,
                   count(r.resolved_at) AS resolved,
                   count(*) FILTER (WHERE r.resolved_at <= r.resolve_due_at) AS resolved_on_time,
                   percentile_cont(0.5) WITHIN GROUP (
                       ORDER BY EXTRACT(EPOCH FROM r.acknowledged_at - r.created_at) / 3600.0
                   ) AS median_ack_hours,
                   percentile_cont(0.5) WITHIN GROUP (
                       ORDER BY EXTRACT(EPOCH FROM r.resolved_at - r.created_at) / 3600.0
                   ) AS median_resolve_hours,
                   count(*) FILTER (WHERE r.reopen_count > 0) AS reopened,
                   count(*) FILTER (WHERE r.resolved_at IS NOT NULL OR r.reopen_count > 0) AS ever_resolved,
                   avg(r.rating)::float8 AS mean_rating,
                   count(r.rating) AS ratings
            FROM reports r
            WHERE {" AND ".join(conds)}
            GROUP BY 1
            ORDER BY 1
            """
        ),
        params,
    )
    out: list[Row] = []
    for m in (row._mapping for row in rows):
        out.append(
            Row(
                key=m["key"],
                received=m["received"],
                open=m["open"],
                overdue=m["overdue"],
                resolved=m["resolved"],
                resolved_on_time=m["resolved_on_time"],
                resolved_on_time_pct=_pct(m["resolved_on_time"], m["resolved"]),
                median_ack_hours=_round(m["median_ack_hours"]),
                median_resolve_hours=_round(m["median_resolve_hours"]),
                reopen_rate=_ratio(m["reopened"], m["ever_resolved"]),
                mean_rating=_round(m["mean_rating"]),
                ratings=m["ratings"],
            )
        )
    return out


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)
