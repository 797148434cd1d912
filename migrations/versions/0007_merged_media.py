"""index the reports merged into another (every report view lists them to carry their media)

Revision ID: 0007_merged_media
Revises: 0006_workflow
"""

from alembic import op

revision = "0007_merged_media"
down_revision = "0006_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_reports_duplicate_of ON reports (duplicate_of) WHERE duplicate_of IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_reports_duplicate_of")
