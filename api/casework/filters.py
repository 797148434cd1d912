"""Filters shared by the queue, the exports and the tiles, rendered as SQL over `reports r`.

`DUE_SQL` is the case's next deadline: acknowledging while it is `new`, resolving after that; closed
cases have none. Overdue is always computed against the clock of the query (`:now`), never stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.scope import area_scope, scope
from api.access.tokens import Principal
from api.core.clock import local_midnight
from api.core.errors import NotFound
from api.core.status import OPEN, ReportStatus, sql_in

# Rendered constants, not parameters: they must read word for word like the partial expression index
# ix_reports_queue_due (migration 0006) for the planner to use it.
DUE_SQL = (
    f"(CASE WHEN r.status = '{ReportStatus.NEW.value}' THEN LEAST(r.ack_due_at, r.resolve_due_at) "
    f"WHEN r.status IN {sql_in(OPEN - {ReportStatus.NEW})} THEN r.resolve_due_at END)"
)
OVERDUE_SQL = f"COALESCE({DUE_SQL} < :now, false)"
OPEN_SQL = f"r.status IN {sql_in(OPEN)}"


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
    # more conditions over `r` (e.g. the public list's filters from api.reports.queries.where)
    extra_conds: list[str] = field(default_factory=list)
    extra_params: dict[str, Any] = field(default_factory=dict)


def area_not_found(area: str) -> NotFound:
    return NotFound(
        "No such area in your scope.",
        message_vi="Không tìm thấy địa bàn trong phạm vi của bạn.",
        code="area_not_found",
        details={"area": area},
    )


async def check_area(session: AsyncSession, principal: Principal, area: str) -> None:
    """404 unless `area` exists and lies within the caller's scope (admins: any area)."""
    cond, params = area_scope(principal, "a.code")
    ok = await session.scalar(
        text(f"SELECT EXISTS (SELECT 1 FROM areas a WHERE a.code = :area AND {cond})"),
        {"area": area, **params},
    )
    if not ok:
        raise area_not_found(area)


async def check_areas(session: AsyncSession, principal: Principal, f: CaseFilter) -> None:
    """404 unless every area the filter names lies within the caller's scope."""
    for code in (f.area, f.ward):
        if code:
            await check_area(session, principal, code)


def where(principal: Principal, f: CaseFilter, now: datetime) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions (ANDed) over `r` and their parameters: the caller's scope plus the filters."""
    cond, params = scope(principal)
    conds = [cond]
    params = {**params, "now": now}
    if f.statuses:
        conds.append("r.status = ANY(:f_statuses)")
        params["f_statuses"] = list(f.statuses)
    elif f.open_only:
        conds.append(OPEN_SQL)
    if f.categories:
        conds.append("r.category_code = ANY(:f_categories)")
        params["f_categories"] = list(f.categories)
    if f.area:
        conds.append(
            "EXISTS (SELECT 1 FROM areas fa WHERE fa.code = r.ward_code AND :f_area = ANY(fa.lineage))"
        )
        params["f_area"] = f.area
    if f.date_from:
        conds.append("r.created_at >= :f_from")
        params["f_from"] = local_midnight(f.date_from)
    if f.date_to:
        conds.append("r.created_at < :f_to")
        params["f_to"] = local_midnight(f.date_to + timedelta(days=1))
    if f.overdue is not None:
        conds.append(OVERDUE_SQL if f.overdue else f"NOT {OVERDUE_SQL}")
    if f.near_boundary is not None:
        conds.append("r.near_boundary = :f_near")
        params["f_near"] = f.near_boundary
    if f.assigned == "me":
        conds.append("r.assignee_id = :f_me")
        params["f_me"] = principal.id
    elif f.assigned == "none":
        conds.append("r.assignee_id IS NULL")
    conds.extend(f.extra_conds)
    params.update(f.extra_params)
    return conds, params


def me_id(principal: Principal) -> uuid.UUID:
    return principal.id


__all__ = ["DUE_SQL", "OPEN_SQL", "OVERDUE_SQL", "CaseFilter", "check_area", "where"]
