"""The case state machine, pure: which staff action is allowed from which status, and where it leads.

new → acknowledged → in_progress → resolved → closed
A simple case may be resolved straight from `new`: the acknowledgement is then recorded in the same
step (`implied_steps`), so the ack clock closes at the real time and the timeline shows both.
rejected and duplicate are other ends; transfer sends a case back to `new` in another ward;
assign and comment keep the status. hold parks an acknowledged or started case as `on_hold` (waiting
on another agency or on the resident: the resolve clock pauses), resume takes it back to in_progress. Residents' own moves (reopen, confirm, rate) live with the
reports code; they are listed here only so the table is complete for readers.
"""

from __future__ import annotations

from typing import Final

from api.core.status import OPEN, ReportStatus, values

S = ReportStatus
ACTIONS: Final = (
    "acknowledge",
    "start",
    "resolve",
    "reject",
    "transfer",
    "merge",
    "assign",
    "comment",
    "hold",
    "resume",
)
_OPEN: Final = tuple(values(OPEN))
# What each action is called in a sentence, (Vietnamese, English).
ACTION_WORDS: Final[dict[str, tuple[str, str]]] = {
    "acknowledge": ("tiếp nhận", "acknowledge"),
    "start": ("bắt đầu xử lý", "start work on"),
    "resolve": ("báo đã xử lý xong", "resolve"),
    "reject": ("từ chối", "reject"),
    "transfer": ("chuyển", "transfer"),
    "merge": ("gộp", "merge"),
    "assign": ("giao", "assign"),
    "comment": ("trả lời", "comment on"),
    "hold": ("tạm chờ", "put on hold"),
    "resume": ("tiếp tục xử lý", "resume"),
}

# action → (statuses it may start from, status it leads to; None = unchanged, "new" for transfer)
_TABLE: Final[dict[str, tuple[tuple[str, ...], str | None]]] = {
    "acknowledge": ((S.NEW,), S.ACKNOWLEDGED),
    "start": ((S.NEW, S.ACKNOWLEDGED), S.IN_PROGRESS),
    "resolve": ((S.NEW, S.ACKNOWLEDGED, S.IN_PROGRESS), S.RESOLVED),
    "reject": (_OPEN, S.REJECTED),
    "transfer": (_OPEN, S.NEW),
    "merge": (_OPEN, S.DUPLICATE),
    "assign": (_OPEN, None),
    "comment": (tuple(S), None),
    "hold": ((S.ACKNOWLEDGED, S.IN_PROGRESS), S.ON_HOLD),
    "resume": ((S.ON_HOLD,), S.IN_PROGRESS),
}

# (action, from status) → the actions recorded first, in the same step, each with its own event.
_IMPLIED: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("resolve", S.NEW): ("acknowledge",),
}

# The event kind each action appends (report_events.kind).
EVENT_KIND: Final[dict[str, str]] = {
    "acknowledge": "acknowledged",
    "start": "started",
    "resolve": "resolved",
    "reject": "rejected",
    "transfer": "transferred",
    "merge": "merged",
    "assign": "assigned",
    "comment": "commented",
    "hold": "on_hold",
    "resume": "resumed",
}

# Reasons a case may be rejected (plus free text in `message`/`note`).
REJECT_REASONS: Final = (
    "not_actionable",  # nothing the authority can act on
    "not_our_competence",  # outside the local authority's competence
    "insufficient_information",
    "already_handled",
    "false_report",
    "inappropriate_content",
)
TRANSFER_REASONS: Final = ("wrong_location", "wrong_ward", "boundary", "agency", "other")
# What a case on hold waits for.
HOLD_REASONS: Final = ("waiting_agency", "waiting_resident")


class InvalidTransition(Exception):
    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"{action} is not allowed from {status}")
        self.action, self.status = action, status
        self.allowed = allowed_actions(status)


def allowed_actions(status: str) -> list[str]:
    """The staff actions possible from `status`, in the table's order."""
    return [a for a, (sources, _) in _TABLE.items() if status in sources]


def is_allowed(action: str, status: str) -> bool:
    return action in _TABLE and status in _TABLE[action][0]


def target(action: str, status: str) -> str:
    """The status after `action` from `status`; raises InvalidTransition."""
    if not is_allowed(action, status):
        raise InvalidTransition(action, status)
    to = _TABLE[action][1]
    return status if to is None else str(to)


def implied_steps(action: str, status: str) -> list[tuple[str, str, str]]:
    """The steps (action, from, to) recorded before `action` from `status` in the same step, in order;
    the action itself then starts from the last one's status. Empty for most moves."""
    steps: list[tuple[str, str, str]] = []
    for step in _IMPLIED.get((action, status), ()):
        to = target(step, status)
        steps.append((step, status, to))
        status = to
    return steps


def table() -> dict[str, tuple[tuple[str, ...], str | None]]:
    """A copy of the transition table (for tests and docs)."""
    return dict(_TABLE)
