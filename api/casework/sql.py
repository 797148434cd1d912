"""The casework's hand-written SQL: fragments over `reports r` (`api.reports.models.ReportAsR`) that
the statements built with SQLAlchemy expressions embed where a literal matters to the planner."""

from __future__ import annotations

from sqlalchemy import Boolean, DateTime, literal_column

from api.core import status
from api.core.db import Sql
from api.core.status import ReportStatus, sql_in

# The case's next deadline: acknowledging while it is `new`, resolving after that; closed and paused
# (on hold) cases have none. Literals rendered from the one status list (api.core.status), not parameters, and written as
# ix_reports_queue_due (migration 0006; the model: api.reports.sql.QUEUE_DUE_INDEX_KEY) has it: the planner uses an
# expression index (and its partial predicate) only for the same expression.
_DUE = (
    f"(CASE WHEN r.status = '{ReportStatus.NEW.value}' THEN LEAST(r.ack_due_at, r.resolve_due_at) "
    f"WHEN r.status IN {sql_in(status.OPEN - status.PAUSED - {ReportStatus.NEW})} THEN r.resolve_due_at END)"
)
DUE = literal_column(_DUE, DateTime(timezone=True))

# The queue's order: the next deadline, cases without one last.
DUE_KEY = literal_column(f"COALESCE({_DUE}, 'infinity'::timestamptz)", DateTime(timezone=True))

# Open cases, as the index's partial predicate reads.
OPEN = literal_column(f"r.status IN {sql_in(status.OPEN)}", Boolean)

# The live listener's check that its connection still answers.
PING = Sql("SELECT 1")
