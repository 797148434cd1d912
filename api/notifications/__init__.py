"""Who is told what when a case changes, on top of the `push` capability.

Every report event passes through `service.notify_event` inside the transaction that appends it
(`api.reports.events` ends its insert with `sql.EVENT_FACTS`), so the inbox and outbox rows it writes
commit (or roll back) with the event.
"""
