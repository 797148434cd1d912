"""Who sees a media item as staff (the unblurred copies, the blur boxes, far_from_report)."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.scope import review_clause
from api.access.tokens import Principal
from api.reports.models import ReportAsR
from api.reports.visibility import in_staff_scope


async def sees_as_staff(session: AsyncSession, viewer: Principal | None, report_id: uuid.UUID | None) -> bool:
    """Staff whose scope covers the report, and moderators who may review it: they decide what its
    photos hide, so they must see what is under the boxes."""
    if viewer is None or not viewer.is_staff or report_id is None:
        return False
    if await in_staff_scope(session, viewer, report_id):
        return True
    if viewer.role != "moderator":
        return False
    r = ReportAsR
    return bool(await session.scalar(select(exists().where(r.id == report_id, review_clause(viewer)))))
