"""The media capability's hand-written SQL: the processing queue's claims (several workers, rows
taken with SKIP LOCKED), the outcome under a claim, and the photo-to-report distance (PostGIS).
Everything else goes through SQLAlchemy expressions."""

from __future__ import annotations

from sqlalchemy import text

# Processing jobs whose lease has run out, each claimed for one worker.
CLAIM = text(
    """
    UPDATE media SET attempts = attempts + 1, claim_id = :claim,
                     lease_until = clock_timestamp() + make_interval(secs => :lease)
    WHERE id IN (
        SELECT id FROM media
        WHERE status = 'processing' AND coalesce(lease_until, completed_at) <= clock_timestamp()
        ORDER BY coalesce(lease_until, completed_at)
        LIMIT :n
        FOR UPDATE SKIP LOCKED)
    RETURNING id, kind, storage_key, sniffed_type, attempts, report_id
    """
)

# A processing outcome, recorded only while the row still carries the claim.
RECORD_OUTCOME = text(
    """
    UPDATE media SET status = :status, reason = :reason, message = :message,
           info = CAST(:info AS jsonb), private = CAST(:private AS jsonb),
           renditions = CAST(:renditions AS jsonb), processed_at = :now,
           blur_boxes = CAST(:blur_boxes AS jsonb), phash = :phash, blur_requested_at = NULL,
           lease_until = NULL, claim_id = NULL
    WHERE id = :id AND claim_id = :claim AND status = 'processing'
    RETURNING id
    """
)

# Uploads that expired unattached.
STALE = text(
    """
    SELECT id, storage_key, multipart_upload_id, renditions
    FROM media
    WHERE report_id IS NULL AND expires_at <= clock_timestamp()
    ORDER BY expires_at
    LIMIT :n
    FOR UPDATE SKIP LOCKED
    """
)

# The distance between a photo's EXIF position (private.gps = [lat, lon]) and its report's spot.
DISTANCE = text(
    """
    WITH d AS (
        SELECT m.id,
               ST_Distance(geography(r.geom),
                           geography(ST_SetSRID(ST_MakePoint((m.private->'gps'->>1)::float8,
                                                             (m.private->'gps'->>0)::float8), 4326))) AS dist
        FROM media m JOIN reports r ON r.id = m.report_id
        WHERE m.id = ANY(:ids) AND jsonb_typeof(m.private->'gps') = 'array'
    )
    UPDATE media SET distance_from_report_m = d.dist, far_from_report = d.dist > :far
    FROM d WHERE media.id = d.id
    """
)

CLAIM_REBUILD = text(
    """
    UPDATE media SET claim_id = :claim, lease_until = clock_timestamp() + make_interval(secs => :lease)
    WHERE id IN (
        SELECT id FROM media
        WHERE status = 'ready' AND blur_requested_at IS NOT NULL
          AND coalesce(lease_until, blur_requested_at) <= clock_timestamp()
        ORDER BY coalesce(lease_until, blur_requested_at)
        LIMIT :n
        FOR UPDATE SKIP LOCKED)
    RETURNING id, kind, renditions, blur_boxes, blur_requested_at
    """
)

# Only the claim's holder records; the request is cleared only if no newer one came meanwhile (a
# second moderator edit during the rebuild leaves it due, and the next round applies it). Boxes the
# worker detected (legacy photos) never overwrite a moderator's.
FINISH_REBUILD = text(
    """
    UPDATE media SET renditions = CAST(:renditions AS jsonb),
                     info = info || CAST(:info AS jsonb),
                     blur_boxes = coalesce(blur_boxes, CAST(:detected AS jsonb)),
                     phash = :phash,
                     blur_requested_at = CASE WHEN blur_requested_at = :seen THEN NULL ELSE blur_requested_at END,
                     lease_until = NULL, claim_id = NULL
    WHERE id = :id AND claim_id = :claim AND status = 'ready'
    RETURNING id
    """
)

# A ready item with no picture to blur: nothing to hide, stop asking.
GIVE_UP_REBUILD = text(
    """
    UPDATE media SET blur_requested_at = NULL, blur_boxes = coalesce(blur_boxes, '[]'),
                     lease_until = NULL, claim_id = NULL
    WHERE id = :id AND claim_id = :claim
    """
)

# A moderator's blur boxes; the worker's rebuild picks the item up.
SET_BLUR_BOXES = text(
    "UPDATE media SET blur_boxes = CAST(:boxes AS jsonb), blur_requested_at = clock_timestamp() WHERE id = :id"
)

# Every other picture within the distance; a sequential pass over the hashed rows, run once per
# processed photo by the worker (not on any request).
MATCH = text(
    """
    INSERT INTO media_matches (media_id, other_id, distance)
    SELECT least(:id, m.id), greatest(:id, m.id), d.distance
    FROM media m
    CROSS JOIN LATERAL (SELECT bit_count((m.phash # :hash)::bit(64))::smallint AS distance) d
    WHERE m.phash IS NOT NULL AND m.id <> :id AND m.status = 'ready' AND d.distance <= :max
    ON CONFLICT (media_id, other_id) DO UPDATE SET distance = excluded.distance
    """
)

FORGET_MATCHES = text("DELETE FROM media_matches WHERE media_id = :id OR other_id = :id")

SAME_AS = text(
    """
    SELECT x.mine, r.code
    FROM (SELECT media_id AS mine, other_id AS theirs FROM media_matches WHERE media_id = ANY(:ids)
          UNION
          SELECT other_id, media_id FROM media_matches WHERE other_id = ANY(:ids)) x
    JOIN media o ON o.id = x.theirs
    JOIN media mine ON mine.id = x.mine
    JOIN reports r ON r.id = o.report_id
    WHERE o.report_id IS DISTINCT FROM mine.report_id
    ORDER BY x.mine, r.code
    """
)
