"""case workflow additions (queue, assignment, stats)

- ix_reports_queue_due: the queue's order (next deadline, then code) over open cases; the expression
  is api.casework.sql.DUE_KEY, keep both in step.
- ix_reports_assignee: "assigned to me".
- ix_reports_created: stats and exports by time window.

Revision ID: 0006_workflow
Revises: 0005_staff
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_workflow"
down_revision = "0005_staff"
branch_labels = None
depends_on = None

DUE_KEY = (
    "COALESCE((CASE WHEN status = 'new' THEN LEAST(ack_due_at, resolve_due_at) "
    "WHEN status IN ('acknowledged', 'in_progress') THEN resolve_due_at END), "
    "'infinity'::timestamptz)"
)


def upgrade() -> None:
    if not _has_reports():  # 0002 still empty in this build
        return
    op.execute(
        f"CREATE INDEX IF NOT EXISTS ix_reports_queue_due ON reports (({DUE_KEY}), code) "
        "WHERE status IN ('new', 'acknowledged', 'in_progress')"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_reports_assignee ON reports (assignee_id) "
        "WHERE assignee_id IS NOT NULL"
    )
    op.execute("CREATE INDEX IF NOT EXISTS ix_reports_created ON reports (created_at, code)")


def _has_reports() -> bool:
    return bool(op.get_bind().scalar(sa.text("SELECT to_regclass('reports') IS NOT NULL")))


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_reports_created")
    op.execute("DROP INDEX IF EXISTS ix_reports_assignee")
    op.execute("DROP INDEX IF EXISTS ix_reports_queue_due")
