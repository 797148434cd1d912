"""Bodies of the case workflow: actions, the officers' queue, figures, live queue events."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

ActionName = Literal[
    "acknowledge", "start", "resolve", "reject", "transfer", "merge", "assign", "comment", "hold", "resume"
]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ActionIn(msgspec.Struct, forbid_unknown_fields=True):
    """One staff action. `message` is public (shown and pushed to the resident), `note` staff-only.
    reject needs `reason` from the list; transfer needs `ward` and `reason`; merge needs `into`
    (another report's code); assign needs `assignee`; hold needs `reason` (waiting_agency or
    waiting_resident) and pauses the resolve clock until resume. `version` (optional) makes the action fail
    with 409 if the case changed since the caller read it."""

    action: ActionName
    message: Text | None = None
    note: Text | None = None
    reason: Short | None = None
    media_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=10)] = []
    ward: Short | None = None
    into: Short | None = None
    assignee: uuid.UUID | None = None
    version: Annotated[int, msgspec.Meta(ge=0)] | None = None


class ActionOut(msgspec.Struct):
    code: str
    action: str
    status: str
    from_status: str
    ward: str | None
    version: int
    assignee: uuid.UUID | None
    event_id: uuid.UUID
    allowed: list[str]


class Assignable(msgspec.Struct):
    id: uuid.UUID
    name: str | None
    role: str


class WardName(msgspec.Struct):
    code: str
    name: str


class OptionsOut(msgspec.Struct):
    """What you may do to the case now (`allowed`, from the state machine), the reasons to choose
    from, and who it may be assigned to (the officers and leaders whose scope covers it)."""

    code: str
    status: str
    version: int
    allowed: list[str]
    reject_reasons: list[str]
    transfer_reasons: list[str]
    assignees: list[Assignable]
    wards: list[WardName]  # where it may be transferred


class QueueItem(msgspec.Struct):
    code: str
    status: str
    category: str
    ward: str | None
    ward_name: str | None
    description: str
    address: str | None
    created_at: datetime
    ack_due_at: datetime | None
    resolve_due_at: datetime | None
    due_at: datetime | None
    overdue: bool
    near_boundary: bool
    assignee: uuid.UUID | None
    follower_count: int
    version: int
    lat: float | None
    lng: float | None


class QueueOut(msgspec.Struct):
    items: list[QueueItem]
    counts: dict[str, int]
    next_cursor: str | None = None


class StatsRow(msgspec.Struct):
    """One group: a ward (`name` its name), a category (`name_vi`/`name_en`), or a local day or week
    (`key` and `start` its first day, `end` its last). Percentages are 0–100, rates 0–1; null when
    there is nothing to divide by."""

    key: str | None
    received: int
    open: int
    overdue: int
    resolved: int
    resolved_on_time: int
    resolved_on_time_pct: float | None
    median_ack_hours: float | None
    median_resolve_hours: float | None
    reopen_rate: float | None
    mean_rating: float | None
    ratings: int
    acknowledged: int = 0
    acknowledged_on_time: int = 0
    acknowledged_on_time_pct: float | None = None
    reopened: int = 0
    on_hold: int = 0  # waiting now, on another agency or on the resident
    hold_hours: float = 0.0  # hours waited on hold, the running waits included
    name: str | None = None
    name_vi: str | None = None
    name_en: str | None = None
    start: date | None = None
    end: date | None = None


class StatsOut(msgspec.Struct):
    group_by: str
    area: str | None
    date_from: date | None
    date_to: date | None
    groups: list[StatsRow]
    total: StatsRow | None = None
    ward: str | None = None


class TicketOut(msgspec.Struct):
    """A stream ticket: open `GET /v1/queue/events?ticket=…` with it within `expires_in` seconds."""

    ticket: str
    expires_in: int
    url: str
