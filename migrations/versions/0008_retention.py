"""retention of personal data: reports closed long ago lose what ties them to people

- reports.reporter_id and media.owner_id may be NULL: an erased report no longer names its reporter,
  nor its photos their uploader.
- reports.erased_at: when the retention step erased the report's personal data (NULL: not yet);
  ix_reports_retention finds the closed reports still to erase, oldest first.
- retention_runs: one audit row per run of the step (api/reports/retention.py).

Revision ID: 0008_retention
Revises: 0007_merged_media
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0008_retention"
down_revision = "0007_merged_media"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.alter_column("reports", "reporter_id", nullable=True)
    op.alter_column("media", "owner_id", nullable=True)
    op.add_column("reports", sa.Column("erased_at", TS))
    op.create_index(
        "ix_reports_retention",
        "reports",
        ["closed_at"],
        postgresql_where=sa.text("erased_at IS NULL AND closed_at IS NOT NULL"),
    )
    op.create_table(
        "retention_runs",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("started_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", TS),
        sa.Column("cutoff", TS, nullable=False),  # reports closed before this are erased
        sa.Column("reports_erased", sa.Integer, nullable=False, server_default="0"),
        sa.Column("media_erased", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_retention_runs_started", "retention_runs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_retention_runs_started", table_name="retention_runs")
    op.drop_table("retention_runs")
    op.drop_index("ix_reports_retention", table_name="reports")
    op.drop_column("reports", "erased_at")
    # Fails once a report has been erased: its reporter is gone for good and cannot be put back.
    op.alter_column("media", "owner_id", nullable=False)
    op.alter_column("reports", "reporter_id", nullable=False)
