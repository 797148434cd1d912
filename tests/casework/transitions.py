"""The case state machine as the tests expect it, written out by hand (not read from api.casework.states).

new → acknowledged → in_progress → resolved (→ closed by the resident or the autoclose job); a new case
may be resolved at once (its acknowledgement recorded in the same step);
rejected and duplicate are other ends; transfer sends an open case back to `new` in another ward;
assign and comment keep the status; an ended case only takes comments. hold parks an acknowledged or
started case as on_hold (the resolve clock pauses), resume takes it back to in_progress; a case on hold
can still be rejected, transferred, merged, assigned and commented on.

Change this table only when the workflow itself is meant to change: the tests of api/workflow/states.py
and of POST /v1/reports/{code}/actions compare the code against it.
"""

from __future__ import annotations

from typing import Final

STATUSES: Final = (
    "new",
    "acknowledged",
    "in_progress",
    "resolved",
    "closed",
    "rejected",
    "duplicate",
    "on_hold",
)
_FIRST: Final = ("acknowledge", "start", "resolve", "reject", "transfer", "merge", "assign", "comment")
_PAUSE: Final = ("hold", "resume")
ACTIONS: Final = _FIRST + _PAUSE

_: None = None  # forbidden

# (status, action) → the status after the action, or None when the action is refused from that status.
# fmt: off
_GRID: Final[dict[str, tuple[str | None, ...]]] = {
    #                acknowledge     start          resolve     reject      transfer merge        assign          comment
    "new":          ("acknowledged", "in_progress", "resolved", "rejected", "new",   "duplicate", "new",          "new"),
    "acknowledged": (_,              "in_progress", "resolved", "rejected", "new",   "duplicate", "acknowledged", "acknowledged"),
    "in_progress":  (_,              _,             "resolved", "rejected", "new",   "duplicate", "in_progress",  "in_progress"),
    "resolved":     (_,              _,             _,          _,          _,       _,           _,              "resolved"),
    "closed":       (_,              _,             _,          _,          _,       _,           _,              "closed"),
    "rejected":     (_,              _,             _,          _,          _,       _,           _,              "rejected"),
    "duplicate":    (_,              _,             _,          _,          _,       _,           _,              "duplicate"),
    "on_hold":      (_,              _,             _,          "rejected", "new",   "duplicate", "on_hold",      "on_hold"),
}
# the pause: (hold, resume)
_PAUSE_GRID: Final[dict[str, tuple[str | None, ...]]] = {
    "new":          (_,              _),
    "acknowledged": ("on_hold",      _),
    "in_progress":  ("on_hold",      _),
    "resolved":     (_,              _),
    "closed":       (_,              _),
    "rejected":     (_,              _),
    "duplicate":    (_,              _),
    "on_hold":      (_,              "in_progress"),
}
# fmt: on

TRANSITIONS: Final[dict[tuple[str, str], str | None]] = {
    (status, action): to
    for grid, actions in ((_GRID, _FIRST), (_PAUSE_GRID, _PAUSE))
    for status, row in grid.items()
    for action, to in zip(actions, row, strict=True)
}

PAIRS: Final = sorted(TRANSITIONS)

# (status, action) → the statuses passed through on the way, each recorded as its own event first.
THROUGH: Final[dict[tuple[str, str], tuple[str, ...]]] = {("new", "resolve"): ("acknowledged",)}


def allowed(status: str) -> list[str]:
    """The actions possible from `status`, in the order of ACTIONS (the order the API lists them in)."""
    return [a for a in ACTIONS if TRANSITIONS[(status, a)] is not None]


def pair_id(pair: tuple[str, str]) -> str:
    status, action = pair
    return f"{action}-from-{status}"
