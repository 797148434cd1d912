"""trust and safety of residents' text: moderators' redactions, why and since when text waits for
review (a report, or one event message), the review alerts sent; reports held only for personal data
are released (it is masked on the way out now) and search no longer finds personal data

Revision ID: 0010_safety
Revises: 0009_device_secrets
"""

import sqlalchemy as sa
from alembic import op

from api.core.text import search_text
from moderation import find_personal

revision = "0010_safety"
down_revision = "0009_device_secrets"
branch_labels = None
depends_on = None

_BATCH = 2000


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE reports
            ADD COLUMN public_description text,
            ADD COLUMN public_address text,
            ADD COLUMN held_for jsonb NOT NULL DEFAULT '[]'::jsonb,
            ADD COLUMN held_at timestamptz
        """
    )
    op.execute("CREATE INDEX ix_reports_pending ON reports (held_at) WHERE visibility = 'pending_review'")
    op.execute(
        """
        ALTER TABLE report_events
            ADD COLUMN text_status text NOT NULL DEFAULT 'shown',
            ADD COLUMN held_for jsonb NOT NULL DEFAULT '[]'::jsonb,
            ADD COLUMN held_at timestamptz,
            ADD CONSTRAINT ck_report_events_text_status CHECK (text_status IN ('shown', 'held', 'hidden'))
        """
    )
    op.execute("CREATE INDEX ix_report_events_held ON report_events (held_at) WHERE text_status = 'held'")
    op.execute(
        """
        CREATE TABLE review_alerts (
            item_id uuid NOT NULL,
            held_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (item_id, held_at)
        )
        """
    )
    # Why each held report waits, from its events (screening wrote it there); those that waited only
    # for a phone number or an e-mail address are published: that is masked now.
    op.execute(
        """
        UPDATE reports r SET held_for = coalesce(h.reasons, '[]'::jsonb), held_at = r.created_at
        FROM (
            SELECT r2.id, (SELECT jsonb_agg(DISTINCT x) FROM report_events e, jsonb_array_elements_text(
                               coalesce(e.data -> 'held', '[]'::jsonb)) x
                           WHERE e.report_id = r2.id AND e.kind IN ('created', 'edited')) AS reasons
            FROM reports r2 WHERE r2.visibility = 'pending_review'
        ) h
        WHERE h.id = r.id
        """
    )
    op.execute(
        """
        UPDATE reports SET visibility = 'public', held_for = '[]'::jsonb, held_at = NULL
        WHERE visibility = 'pending_review' AND jsonb_array_length(held_for) > 0
          AND held_for <@ '["phone_number", "email_address"]'::jsonb
          AND NOT EXISTS (SELECT 1 FROM report_events e WHERE e.report_id = reports.id AND e.kind = 'moderated')
        """
    )
    _search_without_personal_data()


def _search_without_personal_data() -> None:
    """search_text again, without the personal data (so that searching a phone number finds nothing)."""
    conn = op.get_bind()
    last = None
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, description, address FROM reports WHERE (CAST(:last AS uuid) IS NULL OR id > :last) "
                "ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            return
        changed = []
        for row in rows:
            parts = [p for p in (row.description, row.address) if p]
            if any(find_personal(p) for p in parts):
                changed.append({"id": row.id, "s": search_text(*parts)})
        if changed:
            conn.execute(sa.text("UPDATE reports SET search_text = :s WHERE id = :id"), changed)
        last = rows[-1].id


def downgrade() -> None:
    op.execute("DROP TABLE review_alerts")
    op.execute("DROP INDEX ix_report_events_held")
    op.execute(
        "ALTER TABLE report_events DROP CONSTRAINT ck_report_events_text_status, DROP COLUMN text_status, "
        "DROP COLUMN held_for, DROP COLUMN held_at"
    )
    op.execute("DROP INDEX ix_reports_pending")
    op.execute(
        "ALTER TABLE reports DROP COLUMN public_description, DROP COLUMN public_address, "
        "DROP COLUMN held_for, DROP COLUMN held_at"
    )
