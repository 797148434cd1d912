"""leaders told once when a case in their area passes a deadline

Revision ID: 0013_overdue_notices
Revises: 0012_calendar

`report_overdue_notices` records each (case, deadline, due time) whose passing was notified to the
leaders in scope, so the worker's step tells them once, whatever the number of workers.
ix_reports_ack_due / ix_reports_resolve_due: that step's look for deadlines passed lately, a range
scan of each deadline over the cases it still runs for.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0013_overdue_notices"
down_revision = "0012_calendar"
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
    op.execute("CREATE INDEX IF NOT EXISTS ix_reports_ack_due ON reports (ack_due_at) WHERE status = 'new'")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_reports_resolve_due ON reports (resolve_due_at) "
        "WHERE status IN ('new', 'acknowledged', 'in_progress')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_reports_resolve_due")
    op.execute("DROP INDEX IF EXISTS ix_reports_ack_due")
    op.drop_table("report_overdue_notices")
