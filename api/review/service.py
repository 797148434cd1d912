"""Moderation review: what automatic screening held back (visibility `pending_review`) is published or
hidden by a moderator or an admin. Callable without HTTP.

- Moderators with areas (or agencies) review the reports in their scope; moderators without any
  review everything; admins review everything. Out of scope is "not found".
- A decision appends a non-public report event (`moderated`, with `data.action` and the visibility
  before and after) through `append_event` (which calls the notifications hook) and bumps the
  report's version, in one transaction.
- publish: pending_review or hidden → public. hide: pending_review or public → hidden.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, TextClause, func, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.scope import review_clause
from api.access.tokens import Principal
from api.core import pagination
from api.core.errors import Conflict, NotFound, Unprocessable
from api.core.pagination import Instant
from api.reports.events import append_event
from api.reports.models import Report, ReportAsR, ReportEvent

ALLOWED_FROM = {"publish": ("pending_review", "hidden"), "hide": ("pending_review", "public")}
TARGET = {"publish": "public", "hide": "hidden"}


def report_not_found() -> NotFound:
    return NotFound("No such report.", message_vi="Không tìm thấy phản ánh.", code="report_not_found")


@dataclass(frozen=True, slots=True)
class QueueItem:
    id: uuid.UUID
    code: str
    category_code: str
    description: str
    address: str | None
    ward_code: str | None
    status: str
    visibility: str
    created_at: datetime
    lat: float | None
    lng: float | None
    held_for: list[str]  # why automatic screening held it back (phone_number, email_address, …)


async def queue(
    session: AsyncSession, viewer: Principal, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[QueueItem], str | None]:
    """Reports waiting for review in the viewer's scope, oldest first; and the next page's cursor."""
    r, e = ReportAsR, ReportEvent
    conds: list[ColumnElement[bool] | TextClause] = [r.visibility == "pending_review", review_clause(viewer)]
    if cursor:
        at, code = pagination.decode(cursor, tuple[Instant, str])
        conds.append(tuple_(r.created_at, r.code) > tuple_(literal(at), literal(code)))
    held = (
        select(e.data["held"])
        .where(e.report_id == r.id, e.kind == "created")
        .order_by(e.created_at)
        .limit(1)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            r.id,
            r.code,
            r.category_code,
            r.description,
            r.address,
            r.ward_code,
            r.status,
            r.visibility,
            r.created_at,
            func.ST_Y(r.geom).label("lat"),
            func.ST_X(r.geom).label("lng"),
            held.label("held"),
        )
        .where(*conds)
        .order_by(r.created_at, r.code)
        .limit(limit + 1)
    )
    items = [
        QueueItem(**{k: v for k, v in row._mapping.items() if k != "held"}, held_for=list(row.held or []))
        for row in rows
    ]
    return pagination.page(items, limit, lambda i: (i.created_at, i.code))


async def decide(
    session: AsyncSession, viewer: Principal, code: str, action: str, reason: str | None = None
) -> tuple[str, uuid.UUID]:
    """Publish or hide a report; returns (new visibility, event id). Commits."""
    if action not in TARGET:
        raise Unprocessable("Unknown action.", message_vi="Thao tác không hợp lệ.", code="invalid_action")
    r = ReportAsR
    row = (
        await session.execute(
            select(r.id, r.visibility, r.status, r.version)
            .where(r.code == code, review_clause(viewer))
            .with_for_update(of=r)
        )
    ).first()
    if row is None:
        raise report_not_found()
    if row.visibility not in ALLOWED_FROM[action]:
        allowed = [a for a, sources in ALLOWED_FROM.items() if row.visibility in sources]
        raise Conflict(
            f"Cannot {action} a report whose visibility is {row.visibility}.",
            message_vi=f"Không thể thực hiện với phản ánh đang ở trạng thái hiển thị {row.visibility}.",
            code="invalid_transition",
            details={"visibility": row.visibility, "allowed": allowed},
        )
    new = TARGET[action]
    now = datetime.now(UTC)
    await session.execute(
        update(Report)
        .where(Report.id == row.id)
        .values(visibility=new, version=Report.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    event = await append_event(
        session,
        row.id,
        "moderated",
        actor_id=viewer.id,
        actor_role=viewer.role,
        from_status=row.status,
        to_status=row.status,
        reason=reason,
        data={"action": action, "from_visibility": row.visibility, "to_visibility": new},
        is_public=False,
    )
    event_id = event.id
    await session.commit()
    return new, event_id
