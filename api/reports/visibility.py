"""Who sees what of a report. The staff scope rule itself lives in api/access/scope.py."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.scope import scope_clause
from api.access.tokens import Principal
from api.core.errors import NotFound
from api.reports.models import Report, ReportAsR


def report_not_found(code: str) -> NotFound:
    return NotFound(
        f"No report with code {code}.",
        message_vi=f"Không tìm thấy phản ánh mã {code}.",
        code="report_not_found",
    )


async def in_staff_scope(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> bool:
    if not principal.is_staff:
        return False
    r = ReportAsR
    found = await session.scalar(select(exists().where(r.id == report_id, scope_clause(principal))))
    return bool(found)


async def can_view_full(session: AsyncSession, viewer: Principal | None, report: Report) -> bool:
    """Its reporter, and staff whose scope covers it, see everything but other people's secrets."""
    if viewer is None:
        return False
    if viewer.id == report.reporter_id:
        return True
    return await in_staff_scope(session, viewer, report.id)


def visible_to_public(report: Report) -> bool:
    return report.visibility == "public"


def normalise_code(code: str) -> str:
    return code.strip().upper()


async def load_visible(
    session: AsyncSession, viewer: Principal | None, code: str, *, for_update: bool = False
) -> tuple[Report, bool]:
    """(report, full view?) — a 404 when the viewer may not see it at all, exactly as for a missing one."""
    stmt = select(Report).where(Report.code == normalise_code(code))
    if for_update:
        stmt = stmt.with_for_update()
    report = (await session.execute(stmt)).scalar_one_or_none()
    if report is None:
        raise report_not_found(code)
    full = await can_view_full(session, viewer, report)
    if not full and not visible_to_public(report):
        raise report_not_found(code)
    return report, full
