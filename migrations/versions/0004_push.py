"""push devices, notifications inbox and outbox

Revision ID: 0004_push
Revises: 0003_media
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0004_push"
down_revision = "0003_media"
branch_labels = None
depends_on = None


def _now() -> sa.sql.elements.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    # FCM registration tokens; a token belongs to one user at a time (re-registering moves it).
    op.create_table(
        "push_devices",
        sa.Column("token", sa.Text, primary_key=True),
        sa.Column(
            "user_id", pg.UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("locale", sa.Text, nullable=False, server_default="vi"),
        sa.Column("app_version", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    )
    op.create_index("ix_push_devices_user", "push_devices", ["user_id"])

    # The inbox: one row per user and notification, texts in both languages.
    op.create_table(
        "notifications",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "user_id", pg.UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("report_code", sa.Text),
        sa.Column("title_vi", sa.Text, nullable=False),
        sa.Column("body_vi", sa.Text, nullable=False),
        sa.Column("title_en", sa.Text, nullable=False),
        sa.Column("body_en", sa.Text, nullable=False),
        sa.Column("data", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("dedupe_key", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("user_id", "dedupe_key", name="uq_notifications_dedupe"),
    )
    op.create_index(
        "ix_notifications_user_created", "notifications", ["user_id", sa.text("created_at DESC"), "id"]
    )
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["user_id"],
        postgresql_where=sa.text("read_at IS NULL"),
    )

    # The outbox: one row per notification and device, written in the event's transaction.
    # `due_at` doubles as the lease: a claim pushes it forward, so a worker that dies mid-batch
    # leaves rows that become due again when the lease runs out.
    op.create_table(
        "push_outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "notification_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("notifications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("data", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("claim_id", pg.UUID(as_uuid=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("message_id", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending','sent','failed','skipped')", name="ck_push_outbox_status"),
    )
    op.create_index(
        "ix_push_outbox_due", "push_outbox", ["due_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index(
        "ix_push_outbox_token", "push_outbox", ["token"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index("ix_push_outbox_notification", "push_outbox", ["notification_id"])

    # Deadline alerts already sent to officers (near / passed), so the timer step is idempotent.
    op.create_table(
        "report_deadline_alerts",
        sa.Column("report_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("deadline", sa.Text, primary_key=True),  # ack | resolve
        sa.Column("stage", sa.Text, primary_key=True),  # near | passed
        sa.Column("due_at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    )


def downgrade() -> None:
    for t in ("report_deadline_alerts", "push_outbox", "notifications", "push_devices"):
        op.drop_table(t)
