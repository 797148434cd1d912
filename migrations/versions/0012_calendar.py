"""the real working calendar: admin calendar entries, category clocks, cases on hold

Revision ID: 0012_calendar
Revises: 0011_media_blur

- holidays: the admin's entries are a day off or a working day (a make-up Saturday), with the
  reason and the decision they come from; public holidays come from the `holidays` package.
- categories.clock: deadlines count office hours on working days, or run around the clock; the
  seeded urgent categories (flooding, fallen trees, power outage, broken traffic lights) run around
  the clock.
- reports: the status `on_hold` (open, the resolve clock paused), `hold_started_at`, `hold_seconds`;
  the status check and ix_reports_queue_due's partial predicate (open statuses) take it in. The
  queue's key keeps its expression: a case on hold has no deadline running.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_calendar"
down_revision = "0011_media_blur"
branch_labels = None
depends_on = None

URGENT = ("ngap-nuoc", "cay-gay-do", "mat-dien", "den-giao-thong")
DUE_KEY = (
    "COALESCE((CASE WHEN status = 'new' THEN LEAST(ack_due_at, resolve_due_at) "
    "WHEN status IN ('acknowledged', 'in_progress') THEN resolve_due_at END), "
    "'infinity'::timestamptz)"
)
STATUSES = "('new', 'acknowledged', 'in_progress', 'resolved', 'closed', 'rejected', 'duplicate'{})"


def upgrade() -> None:
    op.add_column("holidays", sa.Column("kind", sa.Text, nullable=False, server_default="day_off"))
    op.add_column("holidays", sa.Column("reason", sa.Text))
    op.add_column("holidays", sa.Column("decision", sa.Text))
    op.create_check_constraint("ck_holidays_kind", "holidays", "kind IN ('day_off','working_day')")

    op.add_column("categories", sa.Column("clock", sa.Text, nullable=False, server_default="office_hours"))
    op.create_check_constraint(
        "ck_categories_clock", "categories", "clock IN ('office_hours','around_the_clock')"
    )
    op.execute(
        sa.text("UPDATE categories SET clock = 'around_the_clock' WHERE code IN :codes").bindparams(
            sa.bindparam("codes", URGENT, expanding=True)
        )
    )

    op.add_column("reports", sa.Column("hold_started_at", sa.DateTime(timezone=True)))
    op.add_column("reports", sa.Column("hold_seconds", sa.Integer, nullable=False, server_default="0"))
    op.drop_constraint("ck_reports_status", "reports", type_="check")
    op.create_check_constraint("ck_reports_status", "reports", "status IN " + STATUSES.format(", 'on_hold'"))
    op.execute("DROP INDEX IF EXISTS ix_reports_queue_due")
    op.execute(
        f"CREATE INDEX ix_reports_queue_due ON reports (({DUE_KEY}), code) "
        "WHERE status IN ('new', 'acknowledged', 'in_progress', 'on_hold')"
    )


def downgrade() -> None:
    op.execute("UPDATE reports SET status = 'in_progress' WHERE status = 'on_hold'")
    op.execute("DROP INDEX IF EXISTS ix_reports_queue_due")
    op.execute(
        f"CREATE INDEX ix_reports_queue_due ON reports (({DUE_KEY}), code) "
        "WHERE status IN ('new', 'acknowledged', 'in_progress')"
    )
    op.drop_constraint("ck_reports_status", "reports", type_="check")
    op.create_check_constraint("ck_reports_status", "reports", "status IN " + STATUSES.format(""))
    op.drop_column("reports", "hold_seconds")
    op.drop_column("reports", "hold_started_at")
    op.drop_constraint("ck_categories_clock", "categories", type_="check")
    op.drop_column("categories", "clock")
    op.execute("DELETE FROM holidays WHERE kind = 'working_day'")
    op.drop_constraint("ck_holidays_kind", "holidays", type_="check")
    op.drop_column("holidays", "decision")
    op.drop_column("holidays", "reason")
    op.drop_column("holidays", "kind")
