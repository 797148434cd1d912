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
