"""The officers' queue: in-scope cases, what is due first, keyset-paginated, with counts per status."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.tokens import Principal
from api.casework import sql
from api.casework.filters import CaseFilter, overdue, where
from api.core import pagination
from api.core.pagination import Instant
from api.reports.models import ReportAsR
from geo import Area


@dataclass(frozen=True, slots=True)
class QueueCase:
    id: uuid.UUID
    code: str
    status: str
    category_code: str
    ward_code: str | None
    ward_name: str | None
    description: str
    address: str | None
    created_at: datetime
    ack_due_at: datetime | None
    resolve_due_at: datetime | None
    due_at: datetime | None
    overdue: bool
    near_boundary: bool
    assignee_id: uuid.UUID | None
    follower_count: int
    version: int
    lat: float | None
    lng: float | None


async def queue(
    session: AsyncSession,
    principal: Principal,
    f: CaseFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> tuple[list[QueueCase], str | None, dict[str, int]]:
    """(page of cases, next cursor, counts per status over the same filters without the status one)."""
    now = now or datetime.now(UTC)
    r = ReportAsR
    conds = where(principal, f, now)
    if cursor:
        due, code = pagination.decode(cursor, tuple[Instant | None, str])
        if due is None:  # past every dated case: the undated ones, by code
            conds += [sql.DUE.is_(None), r.code > code]
        else:
            conds.append(tuple_(sql.DUE_KEY, r.code) > tuple_(literal(due), literal(code)))
    # sorted by the next deadline, cases without one last; then the code for a total order
    rows = await session.execute(
        select(
            r.id,
            r.code,
            r.status,
            r.category_code,
            r.ward_code,
            # per row of the page (at most `limit`), by primary key: the queue's plan stays the index's
            select(Area.name).where(Area.code == r.ward_code).scalar_subquery().label("ward_name"),
            r.description,
            r.address,
            r.created_at,
            r.ack_due_at,
            r.resolve_due_at,
            sql.DUE.label("due_at"),
            overdue(now).label("overdue"),
            r.near_boundary,
            r.assignee_id,
            r.follower_count,
            r.version,
            func.ST_Y(r.geom).label("lat"),
            func.ST_X(r.geom).label("lng"),
        )
        .where(*conds)
        .order_by(sql.DUE_KEY, r.code)
        .limit(limit + 1)
    )
    items, next_cursor = pagination.page(
        [QueueCase(**row._mapping) for row in rows], limit, lambda c: (c.due_at, c.code)
    )
    counts = await status_counts(session, principal, f, now)
    return items, next_cursor, counts


async def status_counts(
    session: AsyncSession, principal: Principal, f: CaseFilter, now: datetime
) -> dict[str, int]:
    unfiltered = CaseFilter(
        categories=f.categories,
        area=f.area,
        overdue=f.overdue,
        near_boundary=f.near_boundary,
        assigned=f.assigned,
    )
    r = ReportAsR
    rows = await session.execute(
        select(r.status, func.count()).where(*where(principal, unfiltered, now)).group_by(r.status)
    )
    out: dict[str, Any] = {status: n for status, n in rows}
    return out
