"""A resident's copy of everything held about them (`GET /v1/me/export`), the right of access of
Vietnam's personal data protection decree.

Their reports appear as they see them in the app (the full view minus what only staff see: internal
notes, staff actors), so nothing of the city's internal work and nothing about another resident is in
it (photos carried over from other residents' reports merged into theirs are left out); reports they
follow appear by code only. Device ids and push tokens are credentials, so only their
last 4 characters are shown. Staff accounts are the city's employment records, kept by its
administrators: a staff caller gets 403.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import push
from api.access.models import User
from api.access.tokens import Principal
from api.accounts.models import AppInstall
from api.accounts.schemas import (
    ExportAccount,
    ExportFollow,
    ExportInstall,
    ExportNotification,
    ExportPushDevice,
    ExportRating,
    ResidentExport,
)
from api.core.errors import Forbidden, Unauthorized
from api.core.settings import Settings
from api.reports.models import Follow, Report
from api.reports.views import ReportView, render


def mask(secret: str) -> str:
    """'…' and the last 4 characters: enough to tell one's devices apart, not enough to use them."""
    return "…" + secret[-4:] if len(secret) > 4 else "…"


async def export_resident(
    session: AsyncSession, settings: Settings, principal: Principal, *, english: bool = False
) -> ResidentExport:
    """Everything held about the signed-in resident; `english` names categories and wards in English."""
    user = await session.get(User, principal.id)
    if user is None or user.disabled:
        raise Unauthorized("This account no longer exists.", message_vi="Tài khoản không còn tồn tại.")
    if user.role != "resident":
        raise Forbidden(
            "Staff account data is provided by an administrator.",
            message_vi="Dữ liệu tài khoản cán bộ do quản trị viên cung cấp.",
            code="staff_account",
        )
    generated_at = datetime.now(UTC)
    installs = await session.scalars(
        select(AppInstall).where(AppInstall.user_id == user.id).order_by(AppInstall.created_at)
    )
    reports = list(
        await session.scalars(select(Report).where(Report.reporter_id == user.id).order_by(Report.created_at))
    )
    follows = await session.execute(
        select(Report.code, Follow.created_at)
        .join(Report, Report.id == Follow.report_id)
        .where(Follow.user_id == user.id)
        .order_by(Follow.created_at)
    )
    notifications = await session.scalars(
        select(push.Notification)
        .where(push.Notification.user_id == user.id)
        .order_by(push.Notification.created_at, push.Notification.id)
    )
    return ResidentExport(
        generated_at=generated_at,
        account=ExportAccount(
            user.id, user.role, user.display_name, user.phone, user.locale, user.created_at
        ),
        app_installs=[
            ExportInstall(
                mask(i.device_id), i.platform, i.locale, i.app_version, i.created_at, i.last_seen_at
            )
            for i in installs
        ],
        push_devices=[
            ExportPushDevice(mask(d.token), d.platform, d.locale, d.app_version, d.created_at, d.updated_at)
            for d in await push.list_devices(session, user.id)
        ],
        reports=[await _own_view(session, settings, r, principal, english) for r in reports],
        follows=[ExportFollow(code, at) for code, at in follows.tuples()],
        ratings=[
            ExportRating(r.code, r.rating, r.rating_comment, r.rated_at)
            for r in reports
            if r.rating is not None
        ],
        notifications=[
            ExportNotification(
                n.id,
                n.kind,
                n.report_code,
                n.title_vi,
                n.body_vi,
                n.title_en,
                n.body_en,
                n.data,
                n.created_at,
                n.read_at,
            )
            for n in notifications
        ],
    )


async def _own_view(
    session: AsyncSession, settings: Settings, report: Report, principal: Principal, english: bool
) -> ReportView:
    """The report as its reporter sees it, without what other residents' reports merged into it carry
    over (their photos): those are theirs."""
    view = await render(session, settings, report, full=True, viewer=principal, english=english)
    view.media = [m for m in view.media if "from_report" not in m]
    return view


__all__ = ["export_resident", "mask"]
