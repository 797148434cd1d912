"""Worker step: resolved reports the reporter neither confirmed nor reopened close by themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.core.db import Database
from api.core.settings import Settings
from api.reports.events import append_event
from api.reports.models import Report

BATCH = 200


async def close_unconfirmed(db: Database, settings: Settings) -> int:
    """Close one batch of reports resolved more than `auto_close_days` ago; returns how many."""
    cutoff = datetime.now(UTC) - timedelta(days=settings.auto_close_days)
    async with db.session() as session:
        reports = (
            await session.scalars(
                select(Report)
                .where(Report.status == "resolved", Report.resolved_at < cutoff)
                .order_by(Report.resolved_at)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
        now = datetime.now(UTC)
        for report in reports:
            report.status, report.closed_at, report.updated_at = "closed", now, now
            report.version += 1
            await append_event(
                session, report.id, "closed", from_status="resolved", to_status="closed", reason="auto"
            )
        await session.commit()
        return len(reports)
