"""Worker steps: resolved reports the reporter neither confirmed nor reopened close by themselves;
reports closed long ago lose their personal data (`api.reports.retention`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.core.db import Database
from api.core.media import config_for
from api.core.settings import Settings
from api.reports import retention
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


async def erase_expired(db: Database, settings: Settings) -> int:
    """One batch of the current retention run (starting one when due); returns how many reports it
    erased. A failure ends the run with the error recorded in its audit row, and is raised."""
    async with db.session() as session:
        run = await retention.open_run(session, settings.retention_days)
    if run is None:
        return 0
    try:
        async with db.session() as session:
            return await retention.erase_batch(
                session, run, limit=retention.BATCH, media_config=config_for(settings)
            )
    except Exception as exc:
        async with db.session() as session:
            await retention.record_failure(session, run.id, exc)
        raise
