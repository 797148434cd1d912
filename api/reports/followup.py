"""Closing the loop: following ("me too"), confirming or reopening a fix, rating the handling;
and the reporter's own later changes (their name shown or hidden; a quick fix of the text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.tokens import Principal
from api.catalogue import deadlines
from api.core.errors import Conflict, Forbidden, Unprocessable
from api.core.settings import Settings
from api.core.text import nfc, search_text
from api.reports.events import append_event
from api.reports.models import Follow, Report, ReportEvent
from api.reports.schemas import MAX_ADDRESS, MAX_DESCRIPTION
from api.reports.service import too_long
from api.reports.views import in_reopen_window
from api.reports.visibility import load_visible
from moderation import FLAGGED, screen_text


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


async def update_own(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    code: str,
    *,
    anonymous: bool | None = None,
    description: str | None = None,
    address: str | None = None,
) -> Report:
    """The reporter's own changes. Showing or hiding their name: any time. Fixing the description or
    address (a typo, a phone number typed by mistake): only while the case is still `new` and within
    `edit_window_min` of reporting, so officers never work on a text that changes under them. New
    text is screened again (`rescreen`): abuse holds the report for review, and a report held only
    for what the edit took out is released."""
    if anonymous is None and description is None and address is None:
        raise Unprocessable(
            "Say what to change: anonymous, description or address.",
            message_vi="Cần nêu điều muốn thay đổi: ẩn danh, mô tả hoặc địa chỉ.",
            code="nothing_to_change",
        )
    fields = [n for n, v in (("description", description), ("address", address)) if v is not None]
    description = nfc(description)
    if "description" in fields and not description:
        raise Unprocessable(
            "Describe the problem.",
            message_vi="Vui lòng mô tả sự việc.",
            code="description_required",
            details={"field": "description"},
        )
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise too_long("description", MAX_DESCRIPTION)
    if address is not None and len(address) > MAX_ADDRESS:
        raise too_long("address", MAX_ADDRESS)
    report = await _own(session, principal, code)
    if fields:
        closes = report.created_at + timedelta(minutes=settings.edit_window_min)
        if report.status != "new" or datetime.now(UTC) > closes:
            raise Conflict(
                f"A report can be edited only while it is new and within {settings.edit_window_min} "
                "minutes of sending it.",
                message_vi=f"Chỉ sửa được phản ánh khi còn ở trạng thái mới và trong vòng "
                f"{settings.edit_window_min} phút sau khi gửi.",
                code="edit_window_closed",
                details={"status": report.status, "window_min": settings.edit_window_min},
            )
        report.description = description or report.description
        if address is not None:
            report.address = nfc(address)  # "" removes it
        # the resident's new words replace a moderator's redaction of the old ones
        report.public_description = report.public_address = None
        screening = screen_text(report.description, report.address)
        rescreen(report, screening.reasons)
        report.search_text = search_text(report.description, report.address)
        report.updated_at = datetime.now(UTC)
        await append_event(
            session,
            report.id,
            "edited",
            actor_id=principal.id,
            actor_role=principal.role,
            data={"fields": fields, **({"held": screening.reasons} if screening.reasons else {})},
            is_public=False,
        )
    if anonymous is not None:
        report.anonymous = anonymous
    await session.commit()
    await session.refresh(report)
    return report


def rescreen(report: Report, found: list[str]) -> None:
    """The report's text was screened again: what screening found now replaces what it found
    before; a report held for nothing else is released, one held by a person (an officer's flag)
    keeps waiting, and a moderator's "hidden" stays."""
    if report.visibility == "hidden":
        return
    by_people = [r for r in report.held_for if r == FLAGGED]
    held = [*found, *by_people]
    if held and report.visibility == "public":
        report.visibility, report.held_at = "pending_review", datetime.now(UTC)
    elif not held and report.visibility == "pending_review":
        report.visibility, report.held_at = "public", None
    report.held_for = held


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
    # a replaced comment is read nowhere: it no longer waits for a moderator
    await session.execute(
        update(ReportEvent)
        .where(
            ReportEvent.report_id == report.id, ReportEvent.kind == "rated", ReportEvent.text_status == "held"
        )
        .values(text_status="hidden", held_for=[], held_at=None)
    )
    # the comment is also the message of its event: screened there, and held or hidden there alone
    await append_event(
        session,
        report.id,
        "rated",
        actor_id=principal.id,
        actor_role=principal.role,
        public_message=comment,
        data={"stars": stars},
        is_public=False,
    )
    await session.commit()
    return report
