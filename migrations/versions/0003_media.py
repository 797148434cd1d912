"""uploads and media (photos, videos)

Revision ID: 0003_media
Revises: 0002_reports

One row per uploaded file, from the moment it is declared (`uploading`) through the completion
checks (`processing`) to the worker's verdict (`ready` or `rejected`). The storage key is random and
never derived from the uploader or the media id. `private` holds what must never be shown to the
public (EXIF GPS and capture time); `renditions` the served copies.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0003_media"
down_revision = "0002_reports"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("owner_id", UUID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),  # declared (normalised)
        sa.Column("size", sa.BigInteger, nullable=False),  # declared, bytes
        sa.Column("sha256", sa.Text),  # declared, hex
        sa.Column("storage_key", sa.Text, nullable=False, unique=True),  # the original
        sa.Column("status", sa.Text, nullable=False, server_default="uploading"),
        sa.Column("reason", sa.Text),
        sa.Column("message", sa.Text),
        sa.Column("sniffed_type", sa.Text),
        sa.Column("received_size", sa.BigInteger),  # local store: bytes written by the last PUT
        sa.Column("received_sha256", sa.Text),  # local store: hash computed while streaming
        sa.Column("multipart_upload_id", sa.Text),  # S3 multipart
        sa.Column("part_size", sa.BigInteger),
        sa.Column("report_id", UUID, sa.ForeignKey("reports.id", ondelete="SET NULL")),
        sa.Column("event_id", UUID, sa.ForeignKey("report_events.id", ondelete="SET NULL")),
        sa.Column("position", sa.Integer),
        sa.Column("info", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("private", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("distance_from_report_m", sa.Float),
        sa.Column("far_from_report", sa.Boolean),
        sa.Column("renditions", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_until", TS),
        sa.Column("claim_id", UUID),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("completed_at", TS),
        sa.Column("processed_at", TS),
        sa.Column("attached_at", TS),
        sa.Column("expires_at", TS, nullable=False),  # removed by the cleanup unless attached by then
        sa.CheckConstraint("kind IN ('photo','video')", name="ck_media_kind"),
        sa.CheckConstraint("status IN ('uploading','processing','ready','rejected')", name="ck_media_status"),
        sa.CheckConstraint("size > 0", name="ck_media_size"),
    )
    # the worker: completed uploads waiting for (or whose lease ran out during) processing
    op.create_index(
        "ix_media_due",
        "media",
        [sa.text("coalesce(lease_until, completed_at)")],
        postgresql_where=sa.text("status = 'processing'"),
    )
    # the cleanup: uploads never attached to a report, by expiry
    op.create_index(
        "ix_media_expiring", "media", ["expires_at"], postgresql_where=sa.text("report_id IS NULL")
    )
    op.create_index(
        "ix_media_report",
        "media",
        ["report_id", "position"],
        postgresql_where=sa.text("report_id IS NOT NULL"),
    )
    # per-user quotas (uploads in the last hour, pending uploads)
    op.create_index("ix_media_owner_created", "media", ["owner_id", "created_at"])


def downgrade() -> None:
    op.drop_table("media")
