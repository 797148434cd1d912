"""Worker step: moderators are told what has waited for review longer than
`PHANANH_REVIEW_ALERT_MIN` minutes — a held report, or a held message of one.

Each wait is told once: the alert is recorded in `review_alerts` (item, since when it waits) by the
transaction that writes the notifications, so several workers racing tell nobody twice (the loser's
insert does nothing); an item held again later is a new wait. The recipients are the moderators who
review the report (`api.access.scope.reviewers`).
"""

from __future__ import annotations

import logging

from sqlalchemy import text

import push
from api.access.scope import reviewers
from api.core.db import Database
from api.core.settings import Settings
from api.notifications import texts as t

log = logging.getLogger("phananh.review")

# What waits and since when, longest first, not yet told. Both halves are served by the partial
# indexes over what is held (ix_reports_pending, ix_report_events_held).
_WAITING = text(
    """
    SELECT w.* FROM (
        SELECT 'report' AS kind, r.id AS item_id, coalesce(r.held_at, r.created_at) AS held_at, r.code,
               r.ward_code, r.agency_code
        FROM reports r WHERE r.visibility = 'pending_review'
        UNION ALL
        SELECT 'message', e.id, coalesce(e.held_at, e.created_at), r.code, r.ward_code, r.agency_code
        FROM report_events e JOIN reports r ON r.id = e.report_id WHERE e.text_status = 'held'
    ) w
    WHERE w.held_at <= now() - make_interval(mins => :minutes)
      AND NOT EXISTS (SELECT 1 FROM review_alerts a WHERE a.item_id = w.item_id AND a.held_at = w.held_at)
    ORDER BY w.held_at
    LIMIT :n
    """
)
_RECORD = text(
    "INSERT INTO review_alerts (item_id, held_at) VALUES (:item_id, :held_at) "
    "ON CONFLICT DO NOTHING RETURNING item_id"
)
_REVIEWERS = text(f"SELECT array_agg(DISTINCT m.id) FROM ({reviewers(ward=':ward', agency=':agency')}) m")


async def review_alerts(db: Database, settings: Settings, *, batch: int = 200) -> int:
    """Tell moderators about each wait longer than the setting, once."""
    done = 0
    async with db.session() as s:
        rows = list(await s.execute(_WAITING, {"minutes": settings.review_alert_min, "n": batch}))
        for r in rows:
            if await s.scalar(_RECORD, {"item_id": r.item_id, "held_at": r.held_at}) is None:
                continue  # another worker got there first
            moderators = await s.scalar(_REVIEWERS, {"ward": r.ward_code, "agency": r.agency_code})
            params = {"code": r.code, "minutes": str(settings.review_alert_min)}
            await push.notify(
                s,
                user_ids=list(moderators or []),
                kind=f"review_{r.kind}",
                texts=t.render(t.MODERATOR[f"review_{r.kind}"], params, params),
                report_code=r.code,
                data={"item": r.kind, "held_since": r.held_at.isoformat()},
                dedupe_key=f"review:{r.item_id}:{r.held_at.isoformat()}",
            )
            done += 1
        await s.commit()
    if done:
        log.info("review alerts: %d", done)
    return done


__all__ = ["review_alerts"]
