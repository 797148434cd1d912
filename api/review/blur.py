"""Moderation of photos: what a photo's (or a video poster's) public renditions hide, set by a moderator on
a report they may review (unattached media: admins only); a staff-only `media_blurred` event records the
boxes before and after, and the worker makes the renditions again. Callable without HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import media
from api.access.scope import review_clause
from api.access.tokens import Principal
from api.core.errors import NotFound
from api.reports.models import ReportAsR
from api.review.service import staff_event


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
        r = ReportAsR
        report = (
            await session.execute(select(r.id, r.status).where(r.id == m.report_id, review_clause(viewer)))
        ).first()
        if report is None:
            raise media_not_found(media_id)
    elif viewer.role != "admin":  # not on any report: nobody's case to review
        raise media_not_found(media_id)
    before = list(m.blur_boxes or [])
    stored = await media.set_blur_boxes(session, m, boxes)
    event_id = None
    if report is not None:
        event = await staff_event(
            session,
            viewer,
            report,
            "media_blurred",
            data={"media_id": str(media_id), "before": before, "after": stored},
        )
        event_id = event.id
    await session.commit()
    return BlurSet(stored, event_id)
