"""The outbox's claim: due deliveries of endpoints not already being sent to by this process."""

from __future__ import annotations

from api.core.db import Sql

# A lease, not a status: a worker that dies mid-send leaves the row to be claimed again when the
# lease runs out (at least once). `busy`: endpoints this process is still sending to (one sender per
# endpoint and process, so a slow endpoint holds one task, not the batch).
CLAIM = Sql(
    """
    UPDATE webhook_deliveries d
    SET lease_until = now() + make_interval(secs => :lease_s), attempts = d.attempts + 1
    WHERE d.id IN (
        SELECT id FROM webhook_deliveries
        WHERE status = 'pending' AND next_attempt_at <= now()
          AND (lease_until IS NULL OR lease_until < now())
          AND NOT (endpoint_id = ANY (CAST(:busy AS uuid[])))
        ORDER BY next_attempt_at, created_at
        LIMIT :batch
        FOR UPDATE SKIP LOCKED
    )
    RETURNING d.id, d.endpoint_id, d.event_id, d.event_type, d.attempts, d.payload, d.created_at
    """
)
