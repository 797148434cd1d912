"""Who is told what when a case changes (issue 6), on top of the `push` capability.

`on_report_event` is called by every service that appends a report event, inside the same
transaction, so the inbox rows and outbox rows it writes commit (or roll back) with the event.
"""

from __future__ import annotations

from api.notifications.events import case_officers, on_report_event, ward_officers

__all__ = ["case_officers", "on_report_event", "ward_officers"]
