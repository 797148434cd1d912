"""leaders told once when a case in their area passes a deadline

Revision ID: 0013_overdue_notices
Revises: 0011_media_blur

`report_overdue_notices` records each (case, deadline, due time) whose passing was notified to the
leaders in scope, so the worker's step tells them once, whatever the number of workers.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0013_overdue_notices"
down_revision = "0011_media_blur"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_overdue_notices",
        sa.Column(
            "report_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("reports.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("deadline", sa.Text, primary_key=True),  # ack | resolve
        sa.Column("due_at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("recipients", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("report_overdue_notices")
