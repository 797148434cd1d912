"""The officers' queue: in-scope cases, what is due first, keyset-paginated, with counts per status."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.tokens import Principal
from api.casework.filters import DUE_SQL, OVERDUE_SQL, CaseFilter, where
from api.core import pagination
from api.core.pagination import Instant

# Sort key: the next deadline, cases without one last; then the code for a total order.
DUE_KEY = f"COALESCE({DUE_SQL}, 'infinity'::timestamptz)"


@dataclass(frozen=True, slots=True)
class QueueCase:
    id: uuid.UUID
    code: str
    status: str
    category_code: str
    ward_code: str | None
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
    conds, params = where(principal, f, now)
    keyset = ""
    if cursor:
        due, code = pagination.decode(cursor, tuple[Instant | None, str])
        params["k_code"] = code
        if due is None:  # past every dated case: the undated ones, by code
            keyset = f"AND {DUE_SQL} IS NULL AND r.code > :k_code"
        else:
            keyset = f"AND ({DUE_KEY}, r.code) > (:k_due, :k_code)"
            params["k_due"] = due
    rows = await session.execute(
        text(
            f"""
            SELECT r.id, r.code, r.status, r.category_code, r.ward_code, r.description, r.address,
                   r.created_at, r.ack_due_at, r.resolve_due_at, {DUE_SQL} AS due_at,
                   {OVERDUE_SQL} AS overdue, r.near_boundary, r.assignee_id, r.follower_count,
                   r.version, ST_Y(r.geom) AS lat, ST_X(r.geom) AS lng
            FROM reports r
            WHERE {" AND ".join(conds)} {keyset}
            ORDER BY {DUE_KEY}, r.code
            LIMIT :limit
            """
        ),
        {**params, "limit": limit + 1},
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
    conds, params = where(principal, unfiltered, now)
    rows = await session.execute(
        text(f"SELECT r.status, count(*) FROM reports r WHERE {' AND '.join(conds)} GROUP BY r.status"),
        params,
    )
    out: dict[str, Any] = {status: n for status, n in rows}
    return out
