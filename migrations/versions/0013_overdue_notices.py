"""leaders told once when a case passes a deadline; every case change announced to the API processes

Revision ID: 0013_overdue_notices
Revises: 0012_calendar

`report_overdue_notices` records each (case, deadline, due time) whose passing was notified to the
leaders in scope, so the worker's step tells them once, whatever the number of workers.

Every change of a case appends a report event; a trigger on `report_events` sends it on the
`phananh_cases` channel (`pg_notify`, delivered at commit, to every API process LISTENing:
api/casework/live.py), with what a process needs to decide who may see it: the ward's lineage and
the agency, now and, for a transfer, before.
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

    op.execute(CASE_CHANGED)
    op.execute(
        "CREATE TRIGGER tr_report_events_announce AFTER INSERT ON report_events "
        "FOR EACH ROW EXECUTE FUNCTION phananh_case_changed()"
    )


# The payload stays far below NOTIFY's 8000 bytes: codes, a status and two short arrays of area codes.
CASE_CHANGED = """
CREATE FUNCTION phananh_case_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('phananh_cases', json_build_object(
        'event', NEW.kind,
        'event_id', NEW.id,
        'public', NEW.is_public,
        'code', r.code,
        'status', r.status,
        'version', r.version,
        'ward', r.ward_code,
        'agency', r.agency_code,
        'lineage', COALESCE(w.lineage, ARRAY[]::text[]),
        'from_lineage', COALESCE(
            (SELECT f.lineage FROM areas f WHERE f.code = NEW.data->>'from_ward'), ARRAY[]::text[])
    )::text)
    FROM reports r LEFT JOIN areas w ON w.code = r.ward_code
    WHERE r.id = NEW.report_id;
    RETURN NULL;
END
$$
"""


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS tr_report_events_announce ON report_events")
    op.execute("DROP FUNCTION IF EXISTS phananh_case_changed()")
    op.drop_table("report_overdue_notices")
