"""The push capability's hand-written SQL: the outbox's claims and marks (several workers, rows
taken with SKIP LOCKED) and the inbox write. Everything else goes through SQLAlchemy expressions."""

from __future__ import annotations

from sqlalchemy import ARRAY, BigInteger, Float, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.types import Text as SAText

# The inbox rows, and one outbox row per (new notification, device) with the texts in the device's
# language, in one statement. created_at is clock_timestamp(), not now(): several events in one
# transaction keep their order in the inbox.
INSERT_NOTIFICATIONS = text(
    """
    WITH inbox AS (
        INSERT INTO notifications (id, user_id, kind, report_code, title_vi, body_vi, title_en, body_en,
                                   data, dedupe_key, created_at)
        SELECT gen_random_uuid(), u, :kind, :report_code, :title_vi, :body_vi, :title_en, :body_en,
               :data, :dedupe_key, clock_timestamp()
        FROM unnest(:user_ids) AS u
        ON CONFLICT (user_id, dedupe_key) DO NOTHING
        RETURNING id, user_id, title_vi, body_vi, title_en, body_en, data
    ), outbox AS (
        INSERT INTO push_outbox (notification_id, user_id, token, title, body, data)
        SELECT n.id, n.user_id, d.token,
               CASE WHEN d.locale = 'en' THEN n.title_en ELSE n.title_vi END,
               CASE WHEN d.locale = 'en' THEN n.body_en ELSE n.body_vi END,
               n.data || jsonb_build_object('notification_id', n.id::text)
        FROM inbox n JOIN push_devices d ON d.user_id = n.user_id
    )
    SELECT id FROM inbox
    """
).bindparams(
    bindparam("user_ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("data", type_=JSONB),
)


CLAIM = text(
    """
    WITH due AS (
        SELECT o.id, (d.token IS NOT NULL) AS alive
        FROM push_outbox o
        LEFT JOIN push_devices d ON d.token = o.token AND d.user_id = o.user_id
        WHERE o.status = 'pending' AND o.due_at <= now()
        ORDER BY o.due_at, o.id
        LIMIT :n
        FOR UPDATE OF o SKIP LOCKED
    )
    UPDATE push_outbox o
    SET claim_id = :claim,
        attempts = o.attempts + CASE WHEN due.alive THEN 1 ELSE 0 END,
        due_at = now() + make_interval(secs => :lease),
        status = CASE WHEN due.alive THEN 'pending' ELSE 'skipped' END,
        last_error = CASE WHEN due.alive THEN o.last_error ELSE 'device no longer registered' END
    FROM due
    WHERE o.id = due.id
    RETURNING o.id, o.token, o.title, o.body, o.data, o.attempts, due.alive
    """
).bindparams(bindparam("claim", type_=UUID(as_uuid=True)), bindparam("lease", type_=Float))

_IDS = ARRAY(BigInteger)

MARK_SENT = text(
    """
    UPDATE push_outbox o SET status = 'sent', sent_at = now(), message_id = v.mid, last_error = NULL
    FROM unnest(:ids, :mids) AS v(id, mid)
    WHERE o.id = v.id AND o.claim_id = :claim AND o.status = 'pending'
    """
).bindparams(
    bindparam("ids", type_=_IDS),
    bindparam("mids", type_=ARRAY(SAText)),
    bindparam("claim", type_=UUID(as_uuid=True)),
)

MARK_RETRY = text(
    """
    UPDATE push_outbox o
    SET status = CASE WHEN o.attempts >= :max THEN 'failed' ELSE 'pending' END,
        due_at = now() + make_interval(secs => v.delay),
        last_error = v.err
    FROM unnest(:ids, :delays, :errs) AS v(id, delay, err)
    WHERE o.id = v.id AND o.claim_id = :claim AND o.status = 'pending'
    """
).bindparams(
    bindparam("ids", type_=_IDS),
    bindparam("delays", type_=ARRAY(Float)),
    bindparam("errs", type_=ARRAY(SAText)),
    bindparam("claim", type_=UUID(as_uuid=True)),
)

MARK_FAILED = text(
    """
    UPDATE push_outbox o SET status = 'failed', last_error = v.err
    FROM unnest(:ids, :errs) AS v(id, err)
    WHERE o.id = v.id AND o.claim_id = :claim AND o.status = 'pending'
    """
).bindparams(
    bindparam("ids", type_=_IDS),
    bindparam("errs", type_=ARRAY(SAText)),
    bindparam("claim", type_=UUID(as_uuid=True)),
)

PRUNE_DEVICES = text("DELETE FROM push_devices WHERE token = ANY(:tokens)").bindparams(
    bindparam("tokens", type_=ARRAY(SAText))
)
SKIP_FOR_TOKENS = text(
    """
    UPDATE push_outbox SET status = 'skipped', last_error = 'device unregistered'
    WHERE status = 'pending' AND token = ANY(:tokens) AND (claim_id IS NULL OR claim_id <> :claim)
    """
).bindparams(bindparam("tokens", type_=ARRAY(SAText)), bindparam("claim", type_=UUID(as_uuid=True)))

SKIP_NO_SENDER = text(
    """
    UPDATE push_outbox SET status = 'skipped', last_error = 'push not configured (inbox only)'
    WHERE id IN (
        SELECT id FROM push_outbox WHERE status = 'pending' AND due_at <= now()
        ORDER BY due_at, id LIMIT :n FOR UPDATE SKIP LOCKED
    )
    """
)
