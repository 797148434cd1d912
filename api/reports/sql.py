"""The reports' hand-written SQL: the submission's statements, the events' insert, a fragment over
`reports r` (`models.ReportAsR`) for statements built with SQLAlchemy expressions, and the queue
index's key as the model declares it.

A submission is the hottest write path (bench/submit.py): one statement claims the idempotency key and
reads everything the rules need (the category's rules and holidays, the ward, the agency route, nearby
reports), each module's own statement embedded by its source; one writes the report, its stored answer
and its first event, and returns what the event's notifications need. Names are parameters across the
whole statement, so an embedded statement shares them (`:category`, `:lat`, `:lng`…).
"""

from __future__ import annotations

from sqlalchemy import Boolean, literal_column, text

from api.catalogue import sql as catalogue
from api.core import sql as core
from api.core.db import Sql
from api.core.status import OPEN, PAUSED, ReportStatus, values
from api.notifications.sql import EVENT_FACTS
from geo import sql as geo

# A CTE `events`: the event from its parameters (`events.event_params`), as the row written. A
# statement that goes on with EVENT_FACTS (and a CTE `report`, its case) returns in the same round trip
# what the event's notifications need.
INSERT_EVENT = """
events AS (
    INSERT INTO report_events (id, report_id, kind, actor_id, actor_role, from_status, to_status,
                               public_message, internal_note, reason, data, is_public, text_status,
                               held_for, held_at)
    VALUES (:event_id, :event_report_id, :event_kind, :event_actor_id, :event_actor_role,
            :event_from_status, :event_to_status, :event_public_message, :event_internal_note,
            :event_reason, CAST(:event_data AS jsonb), :event_is_public, :event_text_status,
            CAST(:event_held_for AS jsonb), :event_held_at)
    RETURNING *
)"""

# An event of an existing case, and what its notifications need.
APPEND_EVENT = Sql(
    f"""
WITH {INSERT_EVENT},
report AS (SELECT * FROM reports WHERE id = :event_report_id)
{EVENT_FACTS}"""
)

# The claim, the rate limits' counters (a hit unless the request is a replay) and every read, in one
# round trip and one row (parameters: `service.prepare_params`; the client id to check is NULL when
# there is none). Nearby open public reports of the same category come
# as arrays, nearest first. A concurrent retry with the same key blocks on the claim until the first
# one commits, then finds the key taken (`claimed` false) and reads the stored answer.
PREPARE = Sql(
    f"""
WITH claim AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash)
    SELECT :user_id, :key, :request_hash WHERE CAST(:key AS text) IS NOT NULL
    ON CONFLICT DO NOTHING RETURNING key
),
rules AS ({catalogue.RULES.source}),
spot AS ({geo.ASSIGN.source}),
{core.counting("CAST(:key AS text) IS NULL OR EXISTS (SELECT FROM claim)")}
SELECT CAST(:key AS text) IS NULL OR EXISTS (SELECT FROM claim) AS claimed,
       rate_totals.rate_keys, rate_totals.rate_totals,
       EXISTS (SELECT FROM reports WHERE reporter_id = :user_id AND client_id = :client_id_to_check)
           AS client_id_taken,
       rules.*,
       spot.code AS ward_code, spot.n, spot.snapped, spot.d, spot.near_boundary,
       (SELECT cr.agency_code FROM category_routes cr JOIN areas w ON cr.area_code = ANY(w.lineage)
        WHERE w.code = spot.code AND cr.category_code = :category
        ORDER BY array_position(w.lineage, cr.area_code) DESC LIMIT 1) AS agency_code,
       nearby.*
FROM rate_totals
LEFT JOIN rules ON true
LEFT JOIN spot ON true
LEFT JOIN LATERAL (
    SELECT array_agg(n.code ORDER BY n.d, n.created_at DESC) AS nearby_codes,
           array_agg(n.category_code ORDER BY n.d, n.created_at DESC) AS nearby_categories,
           array_agg(n.status ORDER BY n.d, n.created_at DESC) AS nearby_statuses,
           array_agg(n.d ORDER BY n.d, n.created_at DESC) AS nearby_distances,
           array_agg(n.follower_count ORDER BY n.d, n.created_at DESC) AS nearby_followers,
           array_agg(n.created_at ORDER BY n.d, n.created_at DESC) AS nearby_created
    FROM (
        WITH pt AS (
            SELECT geography(ST_SetSRID(ST_MakePoint(CAST(:lng AS float8), CAST(:lat AS float8)), 4326)) AS g
        )
        SELECT r.code, r.category_code, r.status, ST_Distance(geography(r.geom), pt.g) AS d,
               r.follower_count, r.created_at
        FROM reports r, pt
        WHERE ST_DWithin(geography(r.geom), pt.g, CAST(coalesce(rules.nearby_radius_m, :nearby_radius_m) AS float8))
          AND r.category_code = :category AND r.status = ANY(CAST(:open_statuses AS text[]))
          AND r.visibility = 'public' AND r.created_at >= :nearby_since
        ORDER BY d, r.created_at DESC LIMIT 5
    ) n
) nearby ON true
"""
)

# The answer stored under an idempotency key.
STORED = Sql(
    "SELECT request_hash, status_code, response FROM idempotency_keys WHERE user_id = :user_id AND key = :key"
)

# The report (held for review since :now when its visibility says so, :held_for why), the answer stored
# under its idempotency key (NULL: none) and its "created" event with what the event's notifications
# need, in one round trip.
WRITE = Sql(
    f"""
WITH report AS (
    INSERT INTO reports (id, code, reporter_id, client_id, category_code, description, address, answers,
                         geom, accuracy_m, ward_code, agency_code, near_boundary, snapped_m, status,
                         visibility, anonymous, ack_due_at, resolve_due_at, search_text, created_at,
                         updated_at, held_for, held_at)
    VALUES (:id, :code, :reporter_id, :client_id, :category, :description, :address, CAST(:answers AS jsonb),
            ST_SetSRID(ST_MakePoint(CAST(:lng AS float8), CAST(:lat AS float8)), 4326), :accuracy_m,
            :ward_code, :agency_code, :near_boundary, :snapped_m, 'new',
            :visibility, :anonymous, :ack_due_at, :resolve_due_at, :search_text, :now, :now,
            CAST(:held_for AS jsonb), CASE WHEN :visibility = 'pending_review' THEN CAST(:now AS timestamptz) END)
    RETURNING *
),
answered AS (
    UPDATE idempotency_keys SET report_id = :id, status_code = 201, response = CAST(:response AS jsonb)
    WHERE CAST(:key AS text) IS NOT NULL AND user_id = :reporter_id AND key = :key
),
{INSERT_EVENT}
{EVENT_FACTS}"""
)

# Public reports, as a literal: the planner uses the partial index ix_reports_public_list (migration
# 0002) only for a condition it can prove from the statement's text.
PUBLIC = literal_column("r.visibility = 'public'", Boolean)

# The queue's order key over open cases, as the model declares ix_reports_queue_due (migration 0006):
# written as PostgreSQL prints it back (pg_get_indexdef), line breaks included, so that Alembic's
# comparison sees the same text; the migration spells it `CASE … status IN (…) … END` without the
# ELSE, and the queue's query over `reports r` (api.casework.sql.DUE_KEY): keep all three in step.
_LATER_OPEN = ", ".join(f"'{s}'::text" for s in values(OPEN - PAUSED - {ReportStatus.NEW}))
QUEUE_DUE_INDEX_KEY = text(
    f"""(COALESCE(
CASE
    WHEN status = '{ReportStatus.NEW.value}'::text THEN LEAST(ack_due_at, resolve_due_at)
    WHEN status = ANY (ARRAY[{_LATER_OPEN}]) THEN resolve_due_at
    ELSE NULL::timestamp with time zone
END, 'infinity'::timestamp with time zone))"""
)
