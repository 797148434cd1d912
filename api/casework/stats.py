"""Staff figures per ward, category, local day or local week, over the reports the filters select.

Definitions (per group, over the reports the filters select — created in [from, to] local days, status,
category, ward, area, overdue…):
- received: reports received; open: a status in api.core.status.OPEN; overdue: open and past their
  next deadline now;
- acknowledged_on_time_pct: of the reports acknowledged (acknowledged_at set), the share acknowledged
  by ack_due_at; resolved_on_time_pct: of the reports resolved (resolved_at set), the share resolved
  by resolve_due_at;
- median_ack_hours / median_resolve_hours: median of acknowledged_at − created_at / resolved_at − created_at;
- reopen_rate: of the reports ever resolved (resolved_at set or reopened), the share reopened at least once;
- mean_rating: mean of the residents' ratings (1–5);
- on_hold: cases waiting now (on another agency or on the resident); hold_hours: the hours every case
  of the group has waited so far, the running waits included (their clocks were paused meanwhile).

Every group the caller may see is listed, with zeros when nothing matched: every ward in the caller's
scope (under `area`, or the one `ward`), every active category (or those the filter names), every
local day or week from `from` (else the first with a report) to `to` (else today).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Date, Float, Label, any_, cast, extract, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from api.access.scope import area_clause
from api.access.tokens import Principal
from api.casework import sql
from api.casework.filters import CaseFilter, check_areas, overdue, where
from api.catalogue.models import Category
from api.core import clock
from api.core.status import ReportStatus
from api.reports.models import ReportAsR
from geo import Area

GroupBy = Literal["ward", "category", "day", "week"]
GROUP_BY: tuple[GroupBy, ...] = ("ward", "category", "day", "week")

_R = ReportAsR


def _local_day() -> ColumnElement[Any]:
    return cast(func.timezone(clock.zone_name(), _R.created_at), Date)


def _group_key(group_by: GroupBy | None) -> ColumnElement[Any] | QueryableAttribute[Any]:
    """The groups: a ward, a category, a local day or the local week (from Monday), named by its
    first day; None: one group of everything."""
    if group_by == "ward":
        return _R.ward_code
    if group_by == "category":
        return _R.category_code
    if group_by == "day":
        return func.to_char(_local_day(), "YYYY-MM-DD")
    if group_by == "week":
        return func.to_char(func.date_trunc("week", _local_day()), "YYYY-MM-DD")
    return literal(None)


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
    acknowledged: int = 0
    acknowledged_on_time: int = 0
    acknowledged_on_time_pct: float | None = None
    reopened: int = 0
    on_hold: int = 0
    hold_hours: float = 0.0
    # a ward's name; a category's names; a day or week: its first and last local day
    name: str | None = None
    name_vi: str | None = None
    name_en: str | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Figures:
    group_by: GroupBy
    date_from: date | None  # the window the day/week groups cover (as given, or as found)
    date_to: date | None
    groups: list[Row]
    total: Row


def _empty(key: str | None) -> Row:
    return Row(key, 0, 0, 0, 0, 0, None, None, None, None, None, 0)


async def _aggregate(
    session: AsyncSession, principal: Principal, f: CaseFilter, group_by: GroupBy | None, now: datetime
) -> list[Row]:
    key = _group_key(group_by).label("key")
    stmt = select(key, *aggregates(now)).where(*where(principal, f, now))
    if group_by is not None:
        stmt = stmt.group_by(key).order_by(key)
    return [to_row(m["key"], m) for m in (row._mapping for row in await session.execute(stmt))]


def aggregates(now: datetime) -> list[Label[Any]]:
    """The figures of the definitions above as labelled aggregates over `r`, for a statement that
    groups them its own way (`to_row` reads them back): the staff figures and the public league
    table (api.pages) are the same numbers."""
    r = _R
    return [
        func.count().label("received"),
        func.count().filter(sql.OPEN).label("open"),
        func.count().filter(overdue(now)).label("overdue"),
        func.count(r.resolved_at).label("resolved"),
        func.count().filter(r.resolved_at <= r.resolve_due_at).label("resolved_on_time"),
        func.count(r.acknowledged_at).label("acknowledged"),
        func.count().filter(r.acknowledged_at <= r.ack_due_at).label("acknowledged_on_time"),
        func.percentile_cont(0.5).within_group(_hours(r.acknowledged_at)).label("median_ack_hours"),
        func.percentile_cont(0.5).within_group(_hours(r.resolved_at)).label("median_resolve_hours"),
        func.count().filter(r.reopen_count > 0).label("reopened"),
        func.count().filter(or_(r.resolved_at.is_not(None), r.reopen_count > 0)).label("ever_resolved"),
        cast(func.avg(r.rating), Float).label("mean_rating"),
        func.count(r.rating).label("ratings"),
        func.count().filter(r.status == ReportStatus.ON_HOLD).label("on_hold"),
        cast(
            func.coalesce(
                func.sum(
                    r.hold_seconds + func.coalesce(extract("epoch", literal(now) - r.hold_started_at), 0)
                ),
                0,
            )
            / 3600.0,
            Float,
        ).label("hold_hours"),
    ]


def to_row(key: str | None, m: Mapping[Any, Any] | None) -> Row:
    """A group's `Row` from the values of `aggregates` (None: a group without reports, all zero)."""
    if not m:
        return _empty(key)
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
        acknowledged=m["acknowledged"],
        acknowledged_on_time=m["acknowledged_on_time"],
        acknowledged_on_time_pct=_pct(m["acknowledged_on_time"], m["acknowledged"]),
        reopened=m["reopened"],
        on_hold=m["on_hold"],
        hold_hours=round(float(m["hold_hours"] or 0), 1),
    )


async def _wards(session: AsyncSession, principal: Principal, f: CaseFilter) -> dict[str, str]:
    """Every ward (leaf area) in the caller's scope that the filters allow, code → name."""
    stmt = select(Area.code, Area.name).where(Area.is_leaf, area_clause(principal, "areas.code"))
    for code in (f.area, f.ward):
        if code:
            stmt = stmt.where(literal(code) == any_(Area.lineage))
    return {code: name for code, name in await session.execute(stmt.order_by(Area.code))}


async def _ward_names(session: AsyncSession, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    return {c: n for c, n in await session.execute(select(Area.code, Area.name).where(Area.code.in_(codes)))}


async def _categories(session: AsyncSession, f: CaseFilter) -> dict[str, tuple[str, str]]:
    """The categories to list, code → (name_vi, name_en): those the filter names, else every active one
    (in the catalogue's order)."""
    stmt = select(Category.code, Category.name_vi, Category.name_en)
    stmt = stmt.where(Category.code.in_(f.categories)) if f.categories else stmt.where(Category.active)
    rows = await session.execute(stmt.order_by(Category.sort, Category.code))
    return {code: (vi, en) for code, vi, en in rows}


async def _category_names(session: AsyncSession, codes: list[str]) -> dict[str, tuple[str, str]]:
    if not codes:
        return {}
    rows = await session.execute(
        select(Category.code, Category.name_vi, Category.name_en).where(Category.code.in_(codes))
    )
    return {code: (vi, en) for code, vi, en in rows}


def _periods(group_by: GroupBy, first: date, last: date) -> list[tuple[date, date]]:
    """The local days or weeks (Monday to Sunday) from the one holding `first` to the one holding `last`."""
    step = timedelta(days=1 if group_by == "day" else 7)
    start = first if group_by == "day" else first - timedelta(days=first.weekday())
    out: list[tuple[date, date]] = []
    while start <= last:
        out.append((start, start + step - timedelta(days=1)))
        start += step
    return out


async def figures(
    session: AsyncSession,
    principal: Principal,
    f: CaseFilter,
    group_by: GroupBy,
    *,
    now: datetime | None = None,
) -> Figures:
    """The figures per group with every group listed (see the module's docstring), and the total."""
    now = now or datetime.now(UTC)
    await check_areas(session, principal, f)
    found = {row.key: row for row in await _aggregate(session, principal, f, group_by, now)}
    (total,) = await _aggregate(session, principal, f, None, now)
    date_from, date_to = f.date_from, f.date_to
    groups: list[Row] = []
    if group_by == "ward":
        wards = await _wards(session, principal, f)
        # a case seen through an agency grant may lie in a ward outside the caller's areas
        extra = sorted(k for k in found if k is not None and k not in wards)
        wards.update(await _ward_names(session, extra))
        for code, name in wards.items():
            groups.append(replace(found.get(code) or _empty(code), name=name, name_vi=name, name_en=name))
        if None in found:  # reports outside every ward (no ward found for their point)
            groups.append(found[None])
    elif group_by == "category":
        cats = await _categories(session, f)
        cats.update(await _category_names(session, sorted(k for k in found if k and k not in cats)))
        for code, (vi, en) in cats.items():
            groups.append(replace(found.get(code) or _empty(code), name=vi, name_vi=vi, name_en=en))
    else:
        days = sorted(date.fromisoformat(k) for k in found if k)
        first = date_from or (days[0] if days else None)
        last = date_to or max([clock.local_date(now), *days[-1:]])
        if first is not None and first <= last:
            for start, end in _periods(group_by, first, last):
                key = start.isoformat()
                groups.append(replace(found.get(key) or _empty(key), start=start, end=end))
        date_from, date_to = first, last
    return Figures(group_by, date_from, date_to, groups, total)


async def stats(
    session: AsyncSession,
    principal: Principal,
    f: CaseFilter,
    group_by: GroupBy,
    *,
    now: datetime | None = None,
) -> list[Row]:
    """The groups alone (`figures(...).groups`)."""
    return (await figures(session, principal, f, group_by, now=now)).groups


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)
