"""Moderation review's hand-written SQL: the alert step's statements (worker claims, run with
`api.core.db.Sql` in the step's session)."""

from __future__ import annotations

from api.access.scope import reviewers
from api.core.db import Sql

# What waits and since when, longest first, not yet told. Both halves are served by the partial
# indexes over what is held (ix_reports_pending, ix_report_events_held): their predicates are literals.
WAITING = Sql(
    """
SELECT w.* FROM (
    SELECT 'report' AS kind, r.id AS item_id, coalesce(r.held_at, r.created_at) AS held_at, r.code,
           r.ward_code, r.agency_code
    FROM reports r WHERE r.visibility = 'pending_review'
    UNION ALL
    SELECT 'message', e.id, coalesce(e.held_at, e.created_at), r.code, r.ward_code, r.agency_code
    FROM report_events e JOIN reports r ON r.id = e.report_id WHERE e.text_status = 'held'
) w
WHERE w.held_at <= now() - make_interval(mins => CAST(:minutes AS int))
  AND NOT EXISTS (SELECT 1 FROM review_alerts a WHERE a.item_id = w.item_id AND a.held_at = w.held_at)
ORDER BY w.held_at
LIMIT :n
"""
)

# An alert recorded once; no row when it already was.
RECORD_ALERT = Sql(
    "INSERT INTO review_alerts (item_id, held_at) VALUES (:item_id, :held_at) "
    "ON CONFLICT DO NOTHING RETURNING item_id"
)

# The moderators who review a report of a ward routed to an agency (either may be NULL): the review
# rule read backwards (`api.access.scope.reviewers`), as an array.
REVIEWERS = Sql(
    "SELECT array_agg(DISTINCT m.id) FROM "
    f"({reviewers(ward='CAST(:ward AS text)', agency='CAST(:agency AS text)')}) m"
)
