"""Moderation review: what automatic screening held back (visibility `pending_review`) is published or
hidden by a moderator or an admin. Callable without HTTP.

- Moderators with areas (or agencies) review the reports in their scope; moderators without any
  review everything; admins review everything. Out of scope is "not found".
- A decision appends a non-public report event (`moderated`, with `data.action` and the visibility
  before and after) through `append_event` (which calls the notifications hook) and bumps the
  report's version, in one transaction.
- publish: pending_review or hidden → public. hide: pending_review or public → hidden.
- `set_blur`: what a photo's (or a video poster's) public renditions hide, on a report the moderator
  may review (unattached media: admins only). A non-public `media_blurred` event records the boxes
  before and after; the worker makes the renditions again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

import media
from api.access.scope import review_scope
from api.access.tokens import Principal
from api.core.errors import Conflict, NotFound, Unprocessable
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


def _cursor(item: QueueItem) -> str:
    return f"{item.created_at.isoformat()}|{item.code}"


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, _, code = cursor.partition("|")
        return datetime.fromisoformat(at), code
    except ValueError:
        raise Unprocessable(
            "Bad cursor.", message_vi="Con trỏ trang không hợp lệ.", code="bad_cursor"
        ) from None


async def queue(
    session: AsyncSession, viewer: Principal, *, after: str | None = None, limit: int = 50
) -> tuple[list[QueueItem], str | None]:
    """Reports waiting for review in the viewer's scope, oldest first."""
    cond, scope_params = review_scope(viewer)
    params: dict[str, Any] = {**scope_params, "limit": limit + 1}
    keyset = ""
    if after:
        params["at"], params["code"] = _parse_cursor(after)
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
    more = len(items) > limit
    items = items[:limit]
    return items, (_cursor(items[-1]) if more and items else None)


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


def media_not_found(media_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"No media with id {media_id}.", message_vi=f"Không tìm thấy tệp {media_id}.", code="media_not_found"
    )


@dataclass(frozen=True, slots=True)
class BlurSet:
    boxes: list[dict[str, Any]]
    event_id: uuid.UUID | None


async def set_blur(
    session: AsyncSession, viewer: Principal, media_id: uuid.UUID, boxes: list[list[float]]
) -> BlurSet:
    """Replace what the media's public renditions hide and queue their rebuild. Commits."""
    m = await session.get(media.Media, media_id, with_for_update=True)
    if m is None:
        raise media_not_found(media_id)
    report = None
    if m.report_id is not None:
        cond, params = review_scope(viewer)
        report = (
            await session.execute(
                text(f"SELECT r.id, r.status FROM reports r WHERE r.id = :rid AND {cond}"),
                {"rid": m.report_id, **params},
            )
        ).first()
        if report is None:
            raise media_not_found(media_id)
    elif viewer.role != "admin":  # not on any report: nobody's case to review
        raise media_not_found(media_id)
    before = list(m.blur_boxes or [])
    stored = await media.set_blur_boxes(session, m, boxes)
    event_id = None
    if report is not None:
        event = await append_event(
            session,
            report.id,
            "media_blurred",
            actor_id=viewer.id,
            actor_role=viewer.role,
            from_status=report.status,
            to_status=report.status,
            data={"media_id": str(media_id), "before": before, "after": stored},
            is_public=False,
        )
        event_id = event.id
    await session.commit()
    return BlurSet(stored, event_id)
