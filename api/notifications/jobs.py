"""Worker steps: push delivery, deadline warnings to ward officers, overdue notices to leaders.

All are safe with any number of workers: delivery claims rows with `FOR UPDATE SKIP LOCKED`;
a deadline warning is recorded in `report_deadline_alerts` (primary key: report, deadline, stage,
due time) by the same transaction that writes the notifications, so each is sent once even when
several workers race (the loser's insert does nothing and it notifies nobody); an overdue notice
likewise in `report_overdue_notices` (report, deadline, due time).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import push
from api.core.db import Database
from api.core.settings import Settings
from api.core.status import OPEN, PAUSED, ReportStatus, values
from api.notifications import sql
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


_reports_ready = False


async def _have_reports(db: Database) -> bool:
    """The reports tables come from another migration; until they exist there is nothing to watch."""
    global _reports_ready
    if not _reports_ready:
        async with db.session() as s:
            _reports_ready = bool(await sql.REPORTS_TABLE_EXISTS.fetchval(s, {}))
    return _reports_ready


async def deadline_warnings(db: Database, settings: Settings, *, batch: int = 200) -> int:
    """Tell ward officers about deadlines that are near or have passed; each stage once."""
    if not await _have_reports(db):
        return 0
    done = 0
    for deadline, statuses in (("ack", [ReportStatus.NEW.value]), ("resolve", values(OPEN - PAUSED))):
        async with db.session() as s:
            rows = await sql.DEADLINE_CANDIDATES[deadline].fetch(
                s,
                {
                    "statuses": statuses,
                    "near": float(settings.deadline_near_s),
                    "deadline": deadline,
                    "n": batch,
                },
            )
            for r in rows:
                due_at, stage = r["due_at"], r["stage"]
                won = await sql.RECORD_DEADLINE_ALERT.fetchval(
                    s, {"report_id": r["id"], "deadline": deadline, "stage": stage, "due_at": due_at}
                )
                if won is None:
                    continue  # another worker got there first
                officers = await case_officers(s, r["ward_code"], r["agency_code"])
                when = t.local_time(due_at)
                params = {"code": r["code"], "when": when}
                await push.notify(
                    s,
                    user_ids=officers,
                    kind=f"deadline_{deadline}_{stage}",
                    texts=t.render(t.OFFICER[f"{deadline}_{stage}"], params, params),
                    report_code=r["code"],
                    data={"deadline": deadline, "stage": stage, "due_at": due_at.isoformat()},
                    dedupe_key=f"deadline:{r['id']}:{deadline}:{stage}:{due_at.isoformat()}",
                )
                done += 1
            await s.commit()
    if done:
        log.info("deadline warnings: %d", done)
    return done


async def overdue_notices(
    db: Database, settings: Settings, *, batch: int = 200, now: datetime | None = None
) -> int:
    """Tell the leaders in scope of each case (the scope rule read backwards) that one of its
    deadlines has passed: once per case, deadline and due time, in their inbox and by push to their
    devices. Deadlines that passed longer than `overdue_notice_window_s` ago are not told about."""
    if not await _have_reports(db):
        return 0
    now = now or datetime.now(UTC)
    done = 0
    async with db.session() as s:
        rows = await sql.OVERDUE_CANDIDATES.fetch(
            s,
            {
                "now": now,
                "window": float(settings.overdue_notice_window_s),
                "n": batch,
            },
        )
        for r in rows:
            leaders = list(r["leaders"] or ())
            won = await sql.RECORD_OVERDUE_NOTICE.fetchval(
                s,
                {
                    "report_id": r["id"],
                    "deadline": r["deadline"],
                    "due_at": r["due_at"],
                    "recipients": len(leaders),
                },
            )
            if won is None:
                continue  # another worker got there first
            vi = {
                "code": r["code"],
                "ward": r["ward_name"] or r["ward_code"] or "?",
                "category": r["category_vi"] or "",
                "when": t.local_time(r["due_at"]),
            }
            en = {**vi, "category": r["category_en"] or vi["category"]}
            await push.notify(
                s,
                user_ids=leaders,
                kind=f"leader_{r['deadline']}_overdue",
                texts=t.render(t.LEADER[f"{r['deadline']}_overdue"], vi, en),
                report_code=r["code"],
                data={"deadline": r["deadline"], "due_at": r["due_at"].isoformat()},
                dedupe_key=f"overdue:{r['id']}:{r['deadline']}:{r['due_at'].isoformat()}",
            )
            done += 1
        await s.commit()
    if done:
        log.info("overdue notices to leaders: %d", done)
    return done


__all__ = ["deadline_warnings", "deliver_push", "overdue_notices"]
