"""Worker step: moderators are told what has waited for review longer than
`PHANANH_REVIEW_ALERT_MIN` minutes — a held report, or a held message of one.

Each wait is told once: the alert is recorded in `review_alerts` (item, since when it waits) by the
transaction that writes the notifications, so several workers racing tell nobody twice (the loser's
insert does nothing); an item held again later is a new wait. The recipients are the moderators who
review the report (`api.access.scope.reviewers`).
"""

from __future__ import annotations

import logging

import push
from api.core.db import Database
from api.core.settings import Settings
from api.notifications import texts as t
from api.review import sql

log = logging.getLogger("phananh.review")


async def review_alerts(db: Database, settings: Settings, *, batch: int = 200) -> int:
    """Tell moderators about each wait longer than the setting, once."""
    done = 0
    async with db.session() as s:
        rows = await sql.WAITING.fetch(s, {"minutes": settings.review_alert_min, "n": batch})
        for r in rows:
            item, held_at, code = r["item_id"], r["held_at"], r["code"]
            if await sql.RECORD_ALERT.fetchval(s, {"item_id": item, "held_at": held_at}) is None:
                continue  # another worker got there first
            moderators = await sql.REVIEWERS.fetchval(s, {"ward": r["ward_code"], "agency": r["agency_code"]})
            params = {"code": code, "minutes": str(settings.review_alert_min)}
            await push.notify(
                s,
                user_ids=list(moderators or []),
                kind=f"review_{r['kind']}",
                texts=t.render(t.MODERATOR[f"review_{r['kind']}"], params, params),
                report_code=code,
                data={"item": r["kind"], "held_since": held_at.isoformat()},
                dedupe_key=f"review:{item}:{held_at.isoformat()}",
            )
            done += 1
        await s.commit()
    if done:
        log.info("review alerts: %d", done)
    return done


__all__ = ["review_alerts"]
