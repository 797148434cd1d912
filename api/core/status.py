"""Report statuses: the one list, and the open/closed groups every rule reads (Python and SQL alike).

SQL takes a group as a bound array (`r.status = ANY(:statuses)` with `values(OPEN)`), or, where an
index must match the expression word for word, as the constant `sql_in(...)` renders.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final


class ReportStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    ON_HOLD = "on_hold"  # open, waiting on another agency or on the resident: the resolve clock pauses


ALL: Final = frozenset(ReportStatus)
# Still waiting for the authority; everything else is an end (closed for Open311).
OPEN: Final = frozenset(
    {ReportStatus.NEW, ReportStatus.ACKNOWLEDGED, ReportStatus.IN_PROGRESS, ReportStatus.ON_HOLD}
)
CLOSED: Final = ALL - OPEN
# Open but with no clock running: no deadline is due, none is overdue (it moves on resume).
PAUSED: Final = frozenset({ReportStatus.ON_HOLD})


# What a status is called, (Vietnamese, English): the public pages and the API's sentences say these.
WORDS: Final[dict[str, tuple[str, str]]] = {
    ReportStatus.NEW: ("Mới gửi, chờ tiếp nhận", "Received, awaiting review"),
    ReportStatus.ACKNOWLEDGED: ("Đã tiếp nhận", "Acknowledged"),
    ReportStatus.IN_PROGRESS: ("Đang xử lý", "In progress"),
    ReportStatus.ON_HOLD: ("Tạm chờ", "On hold"),
    ReportStatus.RESOLVED: ("Đã xử lý xong", "Resolved"),
    ReportStatus.CLOSED: ("Đã hoàn tất", "Closed"),
    ReportStatus.REJECTED: ("Không được xử lý", "Declined"),
    ReportStatus.DUPLICATE: ("Đã gộp vào phản ánh khác", "Merged into another report"),
}


def values(statuses: Iterable[str]) -> list[str]:
    """The statuses as plain strings in the enum's order (stable SQL parameters and texts)."""
    wanted = set(statuses)
    return [s.value for s in ReportStatus if s in wanted]


def sql_in(statuses: Iterable[str]) -> str:
    """`('a', 'b')` for `status IN …`, in the enum's order so that expression indexes still match."""
    return "(" + ", ".join(f"'{s}'" for s in values(statuses)) + ")"


__all__ = ["ALL", "CLOSED", "OPEN", "PAUSED", "ReportStatus", "sql_in", "values"]
