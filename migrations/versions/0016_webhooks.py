"""webhooks out: endpoints, and an outbox of deliveries filled by a trigger on report events

Revision ID: 0016_webhooks
Revises: 0015_open311_partners

Every public event of a case inserts, in the same transaction, one delivery per active endpoint
whose filters match it (area by the ward's lineage, category, event type): the outbox cannot miss an
event nor hold one that was rolled back. The worker sends them (api/webhooks/delivery.py).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0016_webhooks"
down_revision = "0015_open311_partners"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TEXTS = pg.ARRAY(sa.Text)


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("areas", TEXTS, nullable=False, server_default="{}"),
        sa.Column("categories", TEXTS, nullable=False, server_default="{}"),
        sa.Column("event_types", TEXTS, nullable=False, server_default="{}"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_by", UUID, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column(
            "endpoint_id", UUID, sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("event_id", UUID, sa.ForeignKey("report_events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("payload", pg.JSONB),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'dead', 'skipped')", name="ck_webhook_deliveries_status"
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_webhook_deliveries_endpoint", "webhook_deliveries", ["endpoint_id", "created_at"])
    op.execute(ENQUEUE)
    op.execute(
        "CREATE TRIGGER tr_report_events_webhooks AFTER INSERT ON report_events "
        "FOR EACH ROW WHEN (NEW.is_public) EXECUTE FUNCTION phananh_enqueue_webhooks()"
    )


# No endpoint: one look at an empty table. Held or hidden reports get deliveries too; the worker
# skips what the public may not read when it sends (the report may be published by then).
ENQUEUE = """
CREATE FUNCTION phananh_enqueue_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type)
    SELECT e.id, NEW.id, NEW.kind
    FROM webhook_endpoints e
    JOIN reports r ON r.id = NEW.report_id
    LEFT JOIN areas w ON w.code = r.ward_code
    WHERE e.active
      AND (cardinality(e.event_types) = 0 OR NEW.kind = ANY (e.event_types))
      AND (cardinality(e.categories) = 0 OR r.category_code = ANY (e.categories))
      AND (cardinality(e.areas) = 0 OR COALESCE(w.lineage, ARRAY[]::text[]) && e.areas);
    RETURN NULL;
END
$$
"""


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS tr_report_events_webhooks ON report_events")
    op.execute("DROP FUNCTION IF EXISTS phananh_enqueue_webhooks()")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
