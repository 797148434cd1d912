"""The notifications' hand-written SQL: who is told about a case, read over the documented schema
(docs/domain.md) so that this module depends on tables, not on another feature's model classes.

`EVENT_FACTS` is a fragment other statements end with: for each row of a CTE `events` (report events)
joined to a CTE `report` (its case), what the notifications say and who may get one. The events
module ends its inserts with it (one round trip per case change).
"""

from __future__ import annotations

from api.access.scope import AGENCIES, AREAS, granted_staff
from api.core.db import Sql
from api.core.status import OPEN, PAUSED, ReportStatus, sql_in
from api.notifications import texts as t

RESIDENT_KINDS = frozenset(t.RESIDENT)
OFFICER_KINDS = frozenset({"created", "transferred", "reopened"})


def _officers(ward: str, agency: str) -> str:
    """The ids (an array, NULL for none) of the officers working a case of `ward` routed to `agency`
    (SQL expressions): the agency's officers if it has any, otherwise the ward's — the scope rule read
    backwards (`api.access.scope.granted_staff`)."""
    by_agency = granted_staff(("officer",), agency=agency, via=(AGENCIES,))
    by_ward = granted_staff(("officer",), ward=ward, via=(AREAS,))
    return f"""COALESCE(
    (SELECT array_agg(DISTINCT o.id) FROM ({by_agency}) o),
    (SELECT array_agg(DISTINCT o.id) FROM ({by_ward}) o))"""


# The officers of a case `r` (its ward_code, agency_code).
OFFICERS = _officers("r.ward_code", "r.agency_code")


def _kinds(kinds: frozenset[str]) -> str:
    """SQL literals: fixed words of this module (the planner sees constants, not parameters)."""
    return ", ".join(f"'{k}'" for k in sorted(kinds))


# `officers` for kinds that reach officers, `followers` for public events of a public case.
EVENT_FACTS = f"""
SELECT e.id AS event_id, e.kind, e.is_public, e.actor_id, e.public_message, e.reason, e.data, e.text_status,
       r.id AS report_id, r.code, r.reporter_id, r.status, r.version, r.ward_code, r.agency_code, r.visibility,
       c.name_vi AS category_vi, c.name_en AS category_en,
       w.name AS ward_name,
       CASE WHEN e.kind IN ({_kinds(OFFICER_KINDS)}) THEN {OFFICERS} END AS officers,
       CASE WHEN e.kind IN ({_kinds(RESIDENT_KINDS)}) AND e.is_public AND r.visibility = 'public'
            THEN ARRAY(SELECT f.user_id FROM report_follows f WHERE f.report_id = r.id) END AS followers
FROM events e
JOIN report r ON r.id = e.report_id
LEFT JOIN categories c ON c.code = r.category_code
LEFT JOIN areas w ON w.code = r.ward_code
"""

# Who works a case of a ward routed to an agency (either may be NULL).
CASE_OFFICERS = Sql(f"SELECT {_officers('CAST(:ward_code AS text)', 'CAST(:agency_code AS text)')}")

REPORT_CODE = Sql("SELECT code FROM reports WHERE id = :report_id")


def _deadline_candidates(due: str) -> Sql:
    """Open reports whose deadline (`due`, one of two fixed column names) is within :near seconds or
    past, and not yet warned at this stage, soonest first."""
    return Sql(
        f"""
SELECT r.id, r.code, r.ward_code, r.agency_code, r.{due} AS due_at,
       CASE WHEN r.{due} <= now() THEN 'passed' ELSE 'near' END AS stage
FROM reports r
WHERE r.status = ANY(CAST(:statuses AS text[])) AND r.{due} IS NOT NULL
  AND r.{due} <= now() + make_interval(secs => :near)
  AND NOT EXISTS (
      SELECT 1 FROM report_deadline_alerts a
      WHERE a.report_id = r.id AND a.deadline = :deadline AND a.due_at = r.{due}
        AND a.stage = CASE WHEN r.{due} <= now() THEN 'passed' ELSE 'near' END)
ORDER BY r.{due}
LIMIT :n
"""
    )


# The deadline warnings' candidates, by deadline.
DEADLINE_CANDIDATES = {
    "ack": _deadline_candidates("ack_due_at"),
    "resolve": _deadline_candidates("resolve_due_at"),
}

# A warning recorded once (primary key: report, deadline, stage, due time); no row when it already was.
RECORD_DEADLINE_ALERT = Sql(
    """
INSERT INTO report_deadline_alerts (report_id, deadline, stage, due_at)
VALUES (:report_id, :deadline, :stage, :due_at)
ON CONFLICT DO NOTHING
RETURNING report_id
"""
)

REPORTS_TABLE_EXISTS = Sql("SELECT to_regclass('reports') IS NOT NULL")


# Leaders told about a passed deadline: every enabled leader whose grants cover the case (the scope
# rule read backwards, both kinds of grant), as an array.
LEADERS = granted_staff(("leader",), ward="r.ward_code", agency="r.agency_code")

# Open cases whose acknowledge (while new) or resolve deadline (unless paused: on hold) passed at :now, no longer ago than
# :window seconds (a first start does not tell about every old case at once), not yet notified,
# oldest deadline first; with what the notice says and who gets it. The statuses are literals, as the
# partial indexes ix_reports_ack_due / ix_reports_resolve_due (migration 0013) read them: each half is
# a range scan of the deadlines passed within the window.
OVERDUE_CANDIDATES = Sql(
    f"""
WITH due AS (
    SELECT r.id, 'ack' AS deadline, r.ack_due_at AS due_at
    FROM reports r
    WHERE r.status = '{ReportStatus.NEW.value}'
      AND r.ack_due_at <= CAST(:now AS timestamptz)
      AND r.ack_due_at > CAST(:now AS timestamptz) - make_interval(secs => :window)
    UNION ALL
    SELECT r.id, 'resolve', r.resolve_due_at
    FROM reports r
    WHERE r.status IN {sql_in(OPEN - PAUSED)}
      AND r.resolve_due_at <= CAST(:now AS timestamptz)
      AND r.resolve_due_at > CAST(:now AS timestamptz) - make_interval(secs => :window)
)
SELECT r.id, r.code, r.ward_code, d.deadline, d.due_at,
       c.name_vi AS category_vi, c.name_en AS category_en, w.name AS ward_name,
       ARRAY(SELECT DISTINCT l.id FROM ({LEADERS}) l) AS leaders
FROM due d
JOIN reports r ON r.id = d.id
LEFT JOIN categories c ON c.code = r.category_code
LEFT JOIN areas w ON w.code = r.ward_code
WHERE NOT EXISTS (
    SELECT 1 FROM report_overdue_notices n
    WHERE n.report_id = d.id AND n.deadline = d.deadline AND n.due_at = d.due_at)
ORDER BY d.due_at, d.id
LIMIT :n
"""
)

# A notice recorded once; no row back when another worker recorded it first (it waits for that
# worker's commit, then does nothing).
RECORD_OVERDUE_NOTICE = Sql(
    """
INSERT INTO report_overdue_notices (report_id, deadline, due_at, recipients)
VALUES (:report_id, :deadline, :due_at, :recipients)
ON CONFLICT DO NOTHING
RETURNING report_id
"""
)

# Case changes announced to the API processes (api/notifications/announce.py), a batch in one
# statement, in order.
NOTIFY_MANY = Sql(
    """
SELECT count(pg_notify(CAST(:channel AS text), p.payload))
FROM unnest(CAST(:payloads AS text[])) WITH ORDINALITY AS p(payload, n)
"""
)
