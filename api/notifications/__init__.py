"""Who is told what when a case changes (issue 6), on top of the `push` capability.

Every report event passes through `notify_event` inside the transaction that appends it (the events
module ends its insert with `sql.EVENT_FACTS`), so the inbox rows and outbox rows it writes
commit (or roll back) with the event. `on_report_event` does the same for an event already stored.
"""

from __future__ import annotations

from api.notifications.service import case_officers, notify_event, on_report_event

__all__ = ["case_officers", "notify_event", "on_report_event"]
