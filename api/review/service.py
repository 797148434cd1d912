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
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.scope import review_scope
from api.access.tokens import Principal
from api.core import pagination
from api.core.errors import Conflict, NotFound, Unprocessable
from api.core.pagination import Instant
from api.reports.events import append_event

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
    cond, scope_params = review_scope(viewer)
    params: dict[str, Any] = {**scope_params, "limit": limit + 1}
    keyset = ""
    if cursor:
        params["at"], params["code"] = pagination.decode(cursor, tuple[Instant, str])
        keyset = "AND (r.created_at, r.code) > (:at, :code)"
    rows = await session.execute(
        text(
            f"""
            SELECT r.id, r.code, r.category_code, r.description, r.address, r.ward_code, r.status,
                   r.visibility, r.created_at, ST_Y(r.geom) AS lat, ST_X(r.geom) AS lng,
                   coalesce((SELECT e.data -> 'held' FROM report_events e
                             WHERE e.report_id = r.id AND e.kind = 'created'
                             ORDER BY e.created_at LIMIT 1), '[]'::jsonb) AS held
            FROM reports r
            WHERE r.visibility = 'pending_review' AND {cond} {keyset}
            ORDER BY r.created_at, r.code
            LIMIT :limit
            """
        ),
        params,
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
    cond, params = review_scope(viewer)
    row = (
        await session.execute(
            text(
                f"""
                SELECT r.id, r.visibility, r.status, r.version FROM reports r
                WHERE r.code = :code AND {cond}
                FOR UPDATE OF r
                """
            ),
            {"code": code, **params},
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
        text("UPDATE reports SET visibility = :v, version = version + 1, updated_at = :now WHERE id = :id"),
        {"v": new, "now": now, "id": row.id},
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
