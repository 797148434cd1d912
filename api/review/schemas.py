"""Bodies of the moderation endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

Action = Literal["publish", "hide", "redact", "publish_message", "hide_message"]


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    """publish / hide: the report. redact: the text the public reads (`description` and/or
    `address`; "" removes the address from public view), the original kept for staff.
    publish_message / hide_message: the message of one event (`event_id`): a reopen reason, a rating
    comment, an officer's reply."""

    action: Action
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | None = None
    event_id: uuid.UUID | None = None
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    address: Annotated[str, msgspec.Meta(max_length=300)] | None = None


class ReviewOut(msgspec.Struct, omit_defaults=True):
    code: str
    visibility: str
    event_id: uuid.UUID  # the staff-only event that records the decision
    message_event_id: uuid.UUID | None = None  # publish_message / hide_message: the message's event
    text_status: str | None = None  # … and its state now


class FlagIn(msgspec.Struct, forbid_unknown_fields=True):
    """An officer asks a moderator to look at the report's text, or at one event's message."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | None = None
    event_id: uuid.UUID | None = None


class FlagOut(msgspec.Struct, omit_defaults=True):
    code: str
    visibility: str
    event_id: uuid.UUID
    text_status: str | None = None


class ReviewItem(msgspec.Struct):
    kind: Literal["report", "message"]  # the report's own text, or one event's message
    code: str
    category: str
    description: str
    address: str | None
    ward: str | None
    status: str
    visibility: str
    created_at: datetime
    lat: float | None
    lng: float | None
    held_for: list[str]  # abusive_language (screening), flagged (an officer)
    held_since: datetime
    event_id: uuid.UUID | None = None  # message items
    event_kind: str | None = None
    message: str | None = None


class ReviewQueue(msgspec.Struct):
    items: list[ReviewItem]
    next_cursor: str | None = None
