"""Filters shared by the queue, the exports and the tiles, as conditions over `reports r`
(`ReportAsR`).

`sql.DUE` is the case's next deadline: acknowledging while it is `new`, resolving after that; closed
cases have none. Overdue is always computed against the clock of the query (`now`), never stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ARRAY, ColumnElement, Text, TextClause, any_, exists, false, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.access.scope import area_clause, scope_clause
from api.access.tokens import Principal
from api.casework import sql
from api.core.clock import local_midnight
from api.core.errors import NotFound
from api.reports.models import ReportAsR
from api.reports.queries import bad_param
from geo import Area

Condition = ColumnElement[bool] | TextClause


def overdue(now: datetime) -> ColumnElement[bool]:
    """Past its next deadline at `now` (a case without one is not overdue); the map's statements
    say the same in SQL, with the other deadline states (`sql._DEADLINE_STATE`)."""
    return func.coalesce(now > sql.DUE, false())


@dataclass(slots=True)
class CaseFilter:
    statuses: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    area: str | None = None
    ward: str | None = None  # the public list's ward filter (applied in extra_conds), named for scope checks
    date_from: date | None = None  # local dates (api.core.clock), inclusive, on created_at
    date_to: date | None = None
    overdue: bool | None = None
    near_boundary: bool | None = None
    assigned: str | None = None  # "me" | "none"
    open_only: bool = False
    # more conditions over `r` (e.g. the public list's filters from api.reports.queries.where); one
    # type, not `Condition`: the HTTP layer's signature model takes no union of custom types
    extra_conds: list[ColumnElement[bool]] = field(default_factory=list)


def area_not_found(area: str) -> NotFound:
    return NotFound(
        "No such area in your scope.",
        message_vi="Không tìm thấy địa bàn trong phạm vi của bạn.",
        code="area_not_found",
        details={"area": area},
    )


async def check_area(session: AsyncSession, principal: Principal, area: str) -> None:
    """404 unless `area` exists and lies within the caller's scope (admins: any area)."""
    ok = await session.scalar(select(exists().where(Area.code == area, area_clause(principal, "areas.code"))))
    if not ok:
        raise area_not_found(area)


async def check_areas(session: AsyncSession, principal: Principal, f: CaseFilter) -> None:
    """404 unless every area the filter names lies within the caller's scope."""
    for code in (f.area, f.ward):
        if code:
            await check_area(session, principal, code)


def where(principal: Principal, f: CaseFilter, now: datetime) -> list[Condition]:
    """Conditions (ANDed) over `r`: the caller's scope plus the filters."""
    r = ReportAsR
    conds: list[Condition] = [scope_clause(principal)]
    if f.statuses:
        conds.append(r.status == any_(literal(list(f.statuses), ARRAY(Text))))
    elif f.open_only:
        conds.append(sql.OPEN)
    if f.categories:
        conds.append(r.category_code == any_(literal(list(f.categories), ARRAY(Text))))
    if f.area:
        fa = aliased(Area, name="fa")
        conds.append(exists().where(fa.code == r.ward_code, literal(f.area) == any_(fa.lineage)))
    if f.date_from:
        conds.append(r.created_at >= local_midnight(f.date_from))
    if f.date_to:
        conds.append(r.created_at < local_midnight(f.date_to + timedelta(days=1)))
    if f.overdue is not None:
        conds.append(overdue(now) if f.overdue else ~overdue(now))
    if f.near_boundary is not None:
        conds.append(r.near_boundary == f.near_boundary)
    if f.assigned == "me":
        conds.append(r.assignee_id == principal.id)
    elif f.assigned == "none":
        conds.append(r.assignee_id.is_(None))
    conds.extend(f.extra_conds)
    return conds


def me_id(principal: Principal) -> uuid.UUID:
    return principal.id


PERIOD_MAX = 400  # days or weeks


def period_window(period: str, today: date) -> tuple[date, date]:
    """(first, last) local day of `period`: `today`, `Nd` (the last N days, today included) or `Nw` (the
    last N weeks: the current week, from Monday, and the N−1 before it). 400 `invalid_parameter` else."""
    text_ = period.strip().lower()
    if text_ == "today":
        return today, today
    n = int(text_[:-1]) if text_[:-1].isdigit() else 0
    if text_[-1:] in ("d", "w") and 1 <= n <= PERIOD_MAX:
        if text_.endswith("d"):
            return today - timedelta(days=n - 1), today
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(weeks=n - 1), today
    raise bad_param("period", f"use today, Nd or Nw (N from 1 to {PERIOD_MAX})", "dùng today, Nd hoặc Nw")


__all__ = ["CaseFilter", "Condition", "check_area", "check_areas", "overdue", "period_window", "where"]
