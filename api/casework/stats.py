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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Date, Float, Label, cast, extract, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from api.access.tokens import Principal
from api.casework import sql
from api.casework.filters import CaseFilter, check_area, overdue, where
from api.core import clock
from api.reports.models import ReportAsR

GroupBy = Literal["ward", "category", "day"]

_R = ReportAsR


def _group_key(group_by: GroupBy) -> ColumnElement[Any] | QueryableAttribute[Any]:
    """The groups: a ward, a category, or a local day (the zone a parameter, `clock.zone_name()`)."""
    if group_by == "ward":
        return _R.ward_code
    if group_by == "category":
        return _R.category_code
    return func.to_char(cast(func.timezone(clock.zone_name(), _R.created_at), Date), "YYYY-MM-DD")


def _hours(since: QueryableAttribute[Any]) -> ColumnElement[Any]:
    """The hours from the report's creation to `since` (a timestamp column)."""
    return extract("epoch", since - _R.created_at) / 3600.0


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
    key = _group_key(group_by).label("key")
    rows = await session.execute(
        select(key, *figures(now)).where(*where(principal, f, now)).group_by(key).order_by(key)
    )
    return [to_row(m["key"], m) for m in (row._mapping for row in rows)]


def figures(now: datetime) -> list[Label[Any]]:
    """The figures of the definitions above as labelled aggregates over `r`, for a statement that
    groups them its own way (`to_row` reads them back): the leaders' figures and the public league
    table (api.pages) are the same numbers."""
    r = _R
    return [
        func.count().label("received"),
        func.count().filter(sql.OPEN).label("open"),
        func.count().filter(overdue(now)).label("overdue"),
        func.count(r.resolved_at).label("resolved"),
        func.count().filter(r.resolved_at <= r.resolve_due_at).label("resolved_on_time"),
        func.percentile_cont(0.5).within_group(_hours(r.acknowledged_at)).label("median_ack_hours"),
        func.percentile_cont(0.5).within_group(_hours(r.resolved_at)).label("median_resolve_hours"),
        func.count().filter(r.reopen_count > 0).label("reopened"),
        func.count().filter(or_(r.resolved_at.is_not(None), r.reopen_count > 0)).label("ever_resolved"),
        cast(func.avg(r.rating), Float).label("mean_rating"),
        func.count(r.rating).label("ratings"),
    ]


def to_row(key: str | None, m: Mapping[Any, Any]) -> Row:
    """A group's `Row` from the values of `figures` (a group without reports: all zero)."""
    if not m:
        return Row(key, 0, 0, 0, 0, 0, None, None, None, None, None, 0)
    return Row(
        key=key,
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


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)
