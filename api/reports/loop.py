"""Closing the loop: following ("me too"), confirming or reopening a fix, rating the handling;
and the reporter's later choice to hide (or show) their name."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.tokens import Principal
from api.errors import Conflict, Forbidden
from api.reports import deadlines
from api.reports.access import load_visible
from api.reports.events import append_event
from api.reports.models import Follow, Report, ReportEvent
from api.reports.views import in_reopen_window
from api.settings import Settings


def _not_reporter() -> Forbidden:
    return Forbidden(
        "Only the person who reported this may do that.",
        message_vi="Chỉ người gửi phản ánh mới được thực hiện thao tác này.",
        code="not_reporter",
    )


def _wrong_state(action: str, status: str, allowed: list[str]) -> Conflict:
    return Conflict(
        f"Cannot {action} a report that is {status}.",
        message_vi=f"Không thể thực hiện thao tác này khi phản ánh đang ở trạng thái {status}.",
        code="invalid_transition",
        details={"status": status, "action": action, "allowed_from": allowed},
    )


async def _own(session: AsyncSession, principal: Principal, code: str) -> Report:
    report, _full = await load_visible(session, principal, code, for_update=True)
    if report.reporter_id != principal.id:
        raise _not_reporter()
    return report


async def set_anonymous(session: AsyncSession, principal: Principal, code: str, anonymous: bool) -> Report:
    """Any time after reporting, the reporter may hide their name from the public view, or show it."""
    report = await _own(session, principal, code)
    report.anonymous = anonymous
    await session.commit()
    await session.refresh(report)
    return report


async def follow(session: AsyncSession, principal: Principal, code: str) -> Report:
    """Idempotent: following twice counts once."""
    report, _ = await load_visible(session, principal, code)
    if report.reporter_id == principal.id:
        raise Conflict(
            "You reported this; you already get its updates.",
            message_vi="Bạn là người gửi phản ánh này nên đã nhận mọi cập nhật.",
            code="own_report",
        )
    added = await session.execute(
        insert(Follow).values(report_id=report.id, user_id=principal.id).on_conflict_do_nothing()
    )
    if added.rowcount:  # type: ignore[attr-defined]
        await session.execute(
            update(Report).where(Report.id == report.id).values(follower_count=Report.follower_count + 1)
        )
    await session.commit()
    await session.refresh(report)
    return report


async def unfollow(session: AsyncSession, principal: Principal, code: str) -> Report:
    report, _ = await load_visible(session, principal, code)
    removed = await session.execute(
        delete(Follow).where(Follow.report_id == report.id, Follow.user_id == principal.id)
    )
    if removed.rowcount:  # type: ignore[attr-defined]
        await session.execute(
            update(Report).where(Report.id == report.id).values(follower_count=Report.follower_count - 1)
        )
    await session.commit()
    await session.refresh(report)
    return report


async def confirm(session: AsyncSession, settings: Settings, principal: Principal, code: str) -> Report:
    """The reporter agrees it is fixed: the case closes."""
    report = await _own(session, principal, code)
    now = datetime.now(UTC)
    if report.status != "resolved":
        raise _wrong_state("confirm", report.status, ["resolved"])
    if not in_reopen_window(report, settings, now):
        raise Conflict(
            "The time to confirm this fix has passed.",
            message_vi="Đã quá thời hạn xác nhận kết quả xử lý.",
            code="confirm_window_passed",
            details={"window_days": settings.reopen_window_days},
        )
    report.status, report.closed_at = "closed", now
    report.version += 1
    report.updated_at = now
    await append_event(
        session,
        report.id,
        "confirmed",
        actor_id=principal.id,
        actor_role=principal.role,
        from_status="resolved",
        to_status="closed",
    )
    await session.commit()
    return report


async def reopen(
    session: AsyncSession, settings: Settings, principal: Principal, code: str, reason: str
) -> Report:
    """Not fixed after all: back to in_progress with a fresh resolve deadline (within the window)."""
    report = await _own(session, principal, code)
    now = datetime.now(UTC)
    if report.status not in ("resolved", "closed"):
        raise _wrong_state("reopen", report.status, ["resolved", "closed"])
    confirmed = await session.scalar(
        select(ReportEvent.id)
        .where(ReportEvent.report_id == report.id, ReportEvent.kind == "confirmed")
        .limit(1)
    )
    if report.status == "closed" and confirmed is not None:
        raise _wrong_state("reopen", "closed (confirmed)", ["resolved", "closed automatically"])
    if not in_reopen_window(report, settings, now):
        raise Conflict(
            "The time to reopen this report has passed; please send a new report.",
            message_vi="Đã quá thời hạn mở lại phản ánh; vui lòng gửi phản ánh mới.",
            code="reopen_window_passed",
            details={"window_days": settings.reopen_window_days},
        )
    _ack, resolve_by = await deadlines.due_dates(session, report.category_code, now)
    before = report.status
    report.status, report.closed_at, report.resolve_due_at = "in_progress", None, resolve_by
    report.reopen_count += 1
    report.version += 1
    report.updated_at = now
    await append_event(
        session,
        report.id,
        "reopened",
        actor_id=principal.id,
        actor_role=principal.role,
        from_status=before,
        to_status="in_progress",
        reason=reason,
    )
    await session.commit()
    return report


async def rate(
    session: AsyncSession, principal: Principal, code: str, stars: int, comment: str | None
) -> Report:
    """1–5 stars once the case is resolved or closed; rating again replaces the earlier one."""
    report = await _own(session, principal, code)
    if report.status not in ("resolved", "closed"):
        raise _wrong_state("rate", report.status, ["resolved", "closed"])
    now = datetime.now(UTC)
    report.rating, report.rating_comment, report.rated_at = stars, comment, now
    report.updated_at = now
    await append_event(
        session,
        report.id,
        "rated",
        actor_id=principal.id,
        actor_role=principal.role,
        data={"stars": stars},
        is_public=False,
    )
    await session.commit()
    return report
