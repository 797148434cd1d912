"""The casework's hand-written SQL: fragments over `reports r` (`api.reports.models.ReportAsR`) that
the statements built with SQLAlchemy expressions embed where a literal matters to the planner."""

from __future__ import annotations

from sqlalchemy import Boolean, DateTime, literal_column

# The case's next deadline: acknowledging while it is `new`, resolving after that; closed cases have
# none. Literals, not parameters, and written as ix_reports_queue_due (migration 0006) has it: the
# planner uses an expression index (and its partial predicate) only for the same expression.
_DUE = (
    "(CASE WHEN r.status = 'new' THEN LEAST(r.ack_due_at, r.resolve_due_at) "
    "WHEN r.status IN ('acknowledged', 'in_progress') THEN r.resolve_due_at END)"
)
DUE = literal_column(_DUE, DateTime(timezone=True))

# The queue's order: the next deadline, cases without one last.
DUE_KEY = literal_column(f"COALESCE({_DUE}, 'infinity'::timestamptz)", DateTime(timezone=True))

OPEN = literal_column("r.status IN ('new', 'acknowledged', 'in_progress')", Boolean)
