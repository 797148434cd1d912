"""Worker steps: push delivery, and deadline warnings to ward officers.

Both are safe with any number of workers: delivery claims rows with `FOR UPDATE SKIP LOCKED`;
a deadline warning is recorded in `report_deadline_alerts` (primary key: report, deadline, stage,
due time) by the same transaction that writes the notifications, so each is sent once even when
several workers race (the loser's insert does nothing and it notifies nobody).
"""

from __future__ import annotations

import logging

from sqlalchemy import text

import push
from api.core.db import Database
from api.core.settings import Settings
from api.core.status import OPEN, ReportStatus, values
from api.notifications import texts as t
from api.notifications.service import case_officers

log = logging.getLogger("phananh.notifications")


async def deliver_push(db: Database, settings: Settings) -> int:
    """One round of outbox delivery (FCM when configured, else inbox only)."""
    sender = push.sender_for(settings.fcm_credentials, timeout_s=settings.push_timeout_s)
    stats = await push.deliver_due(
        db.session,
        sender,
        batch_size=settings.push_batch_size,
        lease_s=settings.push_lease_s,
        max_attempts=settings.push_max_attempts,
    )
    return stats.done


# Candidates: open reports whose deadline is within `near` (or past) and not yet warned at this
# stage. `deadline` and its column are fixed strings chosen below, never user input.
_CANDIDATES = """
    SELECT r.id, r.code, r.ward_code, r.agency_code, r.{col} AS due_at,
           CASE WHEN r.{col} <= now() THEN 'passed' ELSE 'near' END AS stage
    FROM reports r
    WHERE r.status = ANY(:statuses) AND r.{col} IS NOT NULL
      AND r.{col} <= now() + make_interval(secs => :near)
      AND NOT EXISTS (
          SELECT 1 FROM report_deadline_alerts a
          WHERE a.report_id = r.id AND a.deadline = :deadline AND a.due_at = r.{col}
            AND a.stage = CASE WHEN r.{col} <= now() THEN 'passed' ELSE 'near' END)
    ORDER BY r.{col}
    LIMIT :n
"""

_RECORD = text(
    """
    INSERT INTO report_deadline_alerts (report_id, deadline, stage, due_at)
    VALUES (:report_id, :deadline, :stage, :due_at)
    ON CONFLICT DO NOTHING
    RETURNING report_id
    """
)


_reports_ready = False


async def _have_reports(db: Database) -> bool:
    """The reports tables come from another migration; until they exist there is nothing to watch."""
    global _reports_ready
    if not _reports_ready:
        async with db.session() as s:
            _reports_ready = bool(await s.scalar(text("SELECT to_regclass('reports') IS NOT NULL")))
    return _reports_ready


async def deadline_warnings(db: Database, settings: Settings, *, batch: int = 200) -> int:
    """Tell ward officers about deadlines that are near or have passed; each stage once."""
    if not await _have_reports(db):
        return 0
    done = 0
    for deadline, col, statuses in (
        ("ack", "ack_due_at", [ReportStatus.NEW.value]),
        ("resolve", "resolve_due_at", values(OPEN)),
    ):
        async with db.session() as s:
            rows = list(
                await s.execute(
                    text(_CANDIDATES.format(col=col)),
                    {
                        "statuses": statuses,
                        "near": float(settings.deadline_near_s),
                        "deadline": deadline,
                        "n": batch,
                    },
                )
            )
            for r in rows:
                won = await s.scalar(
                    _RECORD, {"report_id": r.id, "deadline": deadline, "stage": r.stage, "due_at": r.due_at}
                )
                if won is None:
                    continue  # another worker got there first
                officers = await case_officers(s, r.ward_code, r.agency_code)
                when = t.local_time(r.due_at)
                params = {"code": r.code, "when": when}
                await push.notify(
                    s,
                    user_ids=officers,
                    kind=f"deadline_{deadline}_{r.stage}",
                    texts=t.render(t.OFFICER[f"{deadline}_{r.stage}"], params, params),
                    report_code=r.code,
                    data={"deadline": deadline, "stage": r.stage, "due_at": r.due_at.isoformat()},
                    dedupe_key=f"deadline:{r.id}:{deadline}:{r.stage}:{r.due_at.isoformat()}",
                )
                done += 1
            await s.commit()
    if done:
        log.info("deadline warnings: %d", done)
    return done


__all__ = ["deadline_warnings", "deliver_push"]
