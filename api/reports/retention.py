"""Retention of personal data: reports closed longer than `PHANANH_RETENTION_DAYS` keep their public
record and lose what ties them to people, as Vietnam's personal data protection decree asks.

Erased, per report:
- the reporter: `reporter_id` NULL, `anonymous` true, the app's `client_id` NULL; the reporter no longer
  appears as the actor of their own timeline entries (the role stays);
- phone numbers, e-mail addresses and the reporter's full name in every text of the case (description,
  address, text answers, rating comment, the timeline's messages, reasons and staff notes), and answers
  to questions that ask for contact details;
- its followers (`follower_count` kept in step), its stored idempotency keys (the submission's request
  and answer), and the inbox entries about it in anyone's inbox with their pushes;
- its media's originals, staff-only renditions, EXIF position and time and uploader (`media`).

Kept: code, category, ward, location, status and dates, the texts (redacted), the timeline, the rating's
stars, the public renditions. Staff notes are the city's record of its work and stay, redacted like the
rest. Name and phone live on the account (`users`), not on the case: the account belongs to a resident
who may still be using it, so cutting the link is what erases them from the case; the account itself
goes when its resident leaves (`DELETE /v1/me`).

A run (one `retention_runs` row, the audit trail) starts at most once a day, fixes its cutoff, and is
worked through one bounded batch per worker step (`FOR UPDATE SKIP LOCKED`) until a batch comes back
short. An erased report has `erased_at` set and is never picked again, so running twice is harmless.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import media
import moderation
import push
from api.access.models import User
from api.core.status import CLOSED, values
from api.core.text import search_text
from api.reports.models import Follow, IdempotencyKey, Report, ReportEvent, RetentionRun

BATCH = 50  # reports per worker step: each may mean several deletions in the media store
RUN_EVERY = timedelta(days=1)  # the cutoff moves by days: a daily run is soon enough
RETRY_AFTER = timedelta(hours=1)  # after a failed run
_RUN_LOCK = 0x7068616E616E68  # advisory lock: one worker at a time decides whether a run starts

# answers to questions that ask for contact details or identity (keys are snake_case, see the catalogue)
_CONTACT_KEY = re.compile(
    r"(?:^|_)(?:phone|mobile|sdt|dien_thoai|email|contact|lien_he|ho_ten|full_name|cccd|cmnd)(?:_|$)"
)


async def open_run(session: AsyncSession, retention_days: int) -> RetentionRun | None:
    """The run to work on: the unfinished one, or a new one when one is due (a day after the last, an
    hour after a failed one); None when nothing is due. Commits."""
    now = datetime.now(UTC)
    run: RetentionRun | None = None
    if await session.scalar(select(func.pg_try_advisory_xact_lock(_RUN_LOCK))):
        last = await session.scalar(select(RetentionRun).order_by(RetentionRun.started_at.desc()).limit(1))
        if last is not None and last.finished_at is None:
            run = last
        elif last is None or now - last.started_at >= (RETRY_AFTER if last.error else RUN_EVERY):
            run = RetentionRun(id=uuid.uuid4(), started_at=now, cutoff=now - timedelta(days=retention_days))
            session.add(run)
    await session.commit()  # also lets go of the lock
    return run


async def erase_batch(
    session: AsyncSession,
    run: RetentionRun,
    *,
    limit: int = BATCH,
    media_config: media.MediaConfig | None = None,
) -> int:
    """Erase the personal data of up to `limit` reports closed before the run's cutoff and count them in
    the run, which finishes when fewer than `limit` were left. Commits; returns how many were erased.

    The closed group includes `resolved`, whose `closed_at` stays empty until the case closes (a
    reopened case loses it again), so only closed, rejected and duplicate reports qualify.
    """
    reports = list(
        await session.scalars(
            select(Report)
            .where(
                Report.status.in_(values(CLOSED)),
                Report.closed_at < run.cutoff,
                Report.erased_at.is_(None),
            )
            .order_by(Report.closed_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    ids = [r.id for r in reports]
    reporters = {r.reporter_id for r in reports if r.reporter_id is not None}
    names = await _full_names(session, reporters)
    media_erased = await media.erase_personal_data(session, ids, owners=reporters, config=media_config)
    if ids:
        await session.execute(delete(Follow).where(Follow.report_id.in_(ids)))
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.report_id.in_(ids)))
        await push.forget_reports(session, [r.code for r in reports])
        await _erase_from_timelines(session, {r.id: r.reporter_id for r in reports}, names)
    for r in reports:
        _erase_report(r, names.get(r.reporter_id) if r.reporter_id else None)
    counts: dict[str, Any] = {
        "reports_erased": RetentionRun.reports_erased + len(reports),
        "media_erased": RetentionRun.media_erased + media_erased,
    }
    if len(reports) < limit:  # none left (another worker may be finishing the last ones: keep its time)
        counts["finished_at"] = func.coalesce(RetentionRun.finished_at, datetime.now(UTC))
    await session.execute(update(RetentionRun).where(RetentionRun.id == run.id).values(**counts))
    await session.commit()
    return len(reports)


async def record_failure(session: AsyncSession, run_id: uuid.UUID, error: BaseException) -> None:
    """End the run with the error that stopped it (its batch was rolled back). Commits."""
    await session.execute(
        update(RetentionRun)
        .where(RetentionRun.id == run_id)
        .values(error=f"{type(error).__name__}: {error}"[:2000], finished_at=datetime.now(UTC))
    )
    await session.commit()


async def _full_names(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The reporters' display names, to find them in the case's texts."""
    rows = await session.execute(
        select(User.id, User.display_name).where(User.id.in_(list(user_ids)), User.display_name.is_not(None))
    )
    return {uid: name for uid, name in rows.tuples() if name}


def _redact(value: str | None, name: str | None) -> str | None:
    return None if value is None else moderation.redact(value, names=[name] if name else [])


def _erase_report(r: Report, name: str | None) -> None:
    r.reporter_id, r.client_id, r.anonymous = None, None, True
    r.description = _redact(r.description, name) or ""
    r.address = _redact(r.address, name)
    r.rating_comment = _redact(r.rating_comment, name)
    r.answers = {
        k: _redact(v, name) if isinstance(v, str) else v
        for k, v in (r.answers or {}).items()
        if not _CONTACT_KEY.search(k)
    }
    r.search_text = search_text(r.description, r.address)
    r.follower_count = 0
    r.erased_at = datetime.now(UTC)
    r.version += 1


async def _erase_from_timelines(
    session: AsyncSession, reporter_of: Mapping[uuid.UUID, uuid.UUID | None], names: Mapping[uuid.UUID, str]
) -> None:
    """The one change ever made to past events: the reporter's name and contact details go from their
    texts, and the reporter from their own entries."""
    events = await session.scalars(select(ReportEvent).where(ReportEvent.report_id.in_(list(reporter_of))))
    for e in events:
        reporter = reporter_of[e.report_id]
        name = names.get(reporter) if reporter else None
        if reporter is not None and e.actor_id == reporter:
            e.actor_id = None
        for field in ("public_message", "internal_note", "reason"):
            old = getattr(e, field)
            new = _redact(old, name)
            if new != old:
                setattr(e, field, new)


__all__ = ["BATCH", "erase_batch", "open_run", "record_failure"]
